# The image every service of docker-compose.yaml runs: Airflow's official image of the
# pinned version, with the project's runtime pins (requirements-runtime.txt, wheels only;
# TensorFlow included, the mlp candidates train and serve on the workers) and the
# forecasting package installed at build time. No benchmark peers, no test or lint tools
# (requirements-bench.txt, requirements-dev.txt). Nothing is installed when a container starts.
FROM apache/airflow:3.3.2-python3.11

# The commit the image was built from, logged with every MLflow run:
#   docker compose build --build-arg GIT_SHA=$(git rev-parse HEAD)
ARG GIT_SHA=unknown
ENV FORECASTING_GIT_SHA=${GIT_SHA}

USER airflow
COPY --chown=airflow:0 requirements-runtime.txt /opt/forecasting/requirements-runtime.txt
RUN pip install --no-cache-dir --only-binary=:all: -r /opt/forecasting/requirements-runtime.txt

# The package, non-editable: its SQL files ship inside it (forecasting.sql).
COPY --chown=airflow:0 pyproject.toml README.md /opt/forecasting/
COPY --chown=airflow:0 src /opt/forecasting/src
COPY --chown=airflow:0 include /opt/forecasting/include
RUN pip install --no-cache-dir --no-deps /opt/forecasting

# Mount points of the named volumes (a fresh volume takes over their ownership), writable
# by group 0 so any AIRFLOW_UID works.
RUN mkdir -p /opt/airflow/auth /opt/airflow/forecasting-data \
    && chmod -R g+rwX /opt/airflow/auth /opt/airflow/forecasting-data

# DAGs and the Airflow glue are part of the image, so every worker runs the same code.
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins
