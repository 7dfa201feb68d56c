#!/usr/bin/env bash
# Times the whole demand_forecast DAG on the Store Item Demand import (867k order lines)
# from MySQL to the published table. Needs MariaDB on 127.0.0.1:3306 (root, no password)
# and `make install`. Usage: bash bench/store_item_dag_mysql.sh [database]
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${1:-forecast_bench}
WORK=$(mktemp -d)
export FORECASTING_DATA_DIR=$WORK/data AIRFLOW_HOME=$WORK/airflow
export AIRFLOW__CORE__DAGS_FOLDER=$PWD/dags AIRFLOW__CORE__PLUGINS_FOLDER=$PWD/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES=False MLFLOW_DISABLE_TELEMETRY=true GX_ANALYTICS_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3 TF_ENABLE_ONEDNN_OPTS=0
export AIRFLOW_CONN_FORECASTING_SOURCE="mysql://root@127.0.0.1:3306/$DB"
mariadb -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
echo "== import Store Item Demand into MySQL database $DB"
SECONDS=0
.venv/bin/forecasting import store-item-demand --data-dir ../shared/data \
  --source-url "$AIRFLOW_CONN_FORECASTING_SOURCE" > /dev/null
echo "import: ${SECONDS} s"
.venv/bin/airflow db migrate > "$WORK/migrate.log" 2>&1
echo "== airflow dags test demand_forecast 2017-09-30 (all 1,734 days of history)"
start=$(date +%s)
.venv/bin/airflow dags test demand_forecast 2017-09-30 -c '{"history_days": 1826}' > "$WORK/dag.log" 2>&1 || { tail -50 "$WORK/dag.log"; exit 1; }
end=$(date +%s)
grep -o "DagRun Finished.*state=[a-z]*" "$WORK/dag.log" | sed 's/run_start_date.*state=/state=/' | tail -1
python3 - "$WORK/dag.log" <<'PY'
import re, sys
from datetime import datetime
started = {}
for line in open(sys.argv[1]):
    m = re.search(r"^(\S+Z).*\[DAG TEST\] (starting|end task) task_id=(\w+)", line)
    if m:
        t = datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
        if m.group(2) == "starting":
            started[m.group(3)] = t
        else:
            print(f"  {m.group(3):<15} {(t - started[m.group(3)]).total_seconds():7.1f} s")
PY
echo "DAG wall time: $((end - start)) s"
FORECASTING_WAREHOUSE_URL="$AIRFLOW_CONN_FORECASTING_SOURCE" FORECASTING_SOURCE_URL="$AIRFLOW_CONN_FORECASTING_SOURCE" \
  .venv/bin/forecasting summary --date 2017-09-30
mariadb -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS $DB"
rm -rf "$WORK"
