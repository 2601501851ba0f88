# newsmon crawler image for docker-compose.yml (not built on the project's machine: no Docker there).
FROM python:3.11-slim
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir .
ENV NEWSMON_DATA_DIR=/data
VOLUME /data
ENTRYPOINT ["newsmon"]
CMD ["crawl", "--progress", "30"]
