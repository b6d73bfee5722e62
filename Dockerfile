# Production image: one image for the web (ASGI), Celery worker and beat services.
FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
# Optional extras, e.g. `--build-arg PIP_EXTRAS=[s3]` for proofs on S3-compatible storage.
ARG PIP_EXTRAS=""
RUN pip install --no-cache-dir ".${PIP_EXTRAS}" && pip uninstall -y waypoint
COPY . .
RUN python bin/vendor_frontend.py
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0
RUN useradd --create-home waypoint && mkdir -p /app/var/media && chown -R waypoint /app/var
USER waypoint
EXPOSE 8000
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--proxy-headers"]
