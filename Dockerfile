FROM python:3.11-slim
WORKDIR /srv/iffgraph
COPY pyproject.toml README.md ./
COPY app app
COPY graph_models graph_models
COPY loaders loaders
COPY queries queries
RUN pip install --no-cache-dir .
USER nobody
EXPOSE 8000
CMD ["iffgraph", "serve"]
