FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    XDG_CACHE_HOME=/app/.cache YINLING_SPOOL_DIR=/var/lib/yinling/spool
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY bot bot
COPY nlu nlu
COPY handlers handlers
COPY storage storage
COPY services services
RUN pip install -c constraints.txt . \
 && yinling nlu train \
 && useradd --system --home /app yinling && chown -R yinling /app \
 && mkdir -p /var/lib/yinling/spool && chown -R yinling /var/lib/yinling
USER yinling
EXPOSE 8000
# `yinling serve` applies the database migrations before it listens.
CMD ["yinling", "serve", "--host", "0.0.0.0", "--port", "8000"]
