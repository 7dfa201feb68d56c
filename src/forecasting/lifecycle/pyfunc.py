"""Log any fitted model as a self-contained MLflow pyfunc model.

The demand forecaster (:mod:`forecasting.registry.pyfunc`) and the customer models
(:mod:`forecasting.customers.serving`) are logged the same way: a signature inferred from a
small example and the model's own output on it, the example stored with the model, this
package's code carried along (``code_paths``) and exact pins of the libraries the model
needs, so ``mlflow.pyfunc.load_model("models:/<name>@champion")`` works in a fresh
virtualenv built from the model's own ``requirements.txt``.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc.model import PythonModel

__all__ = ["RUNTIME_PACKAGES", "log_pyfunc_model", "pinned_requirements"]

#: What every logged model needs at inference (the package itself travels as code).
RUNTIME_PACKAGES = ("mlflow", "numpy", "pandas", "scikit-learn", "scipy", "joblib")


def pinned_requirements(packages: Iterable[str]) -> list[str]:
    """Exact pins of the installed ``packages``; those not installed are left out
    (``tensorflow-cpu`` or ``tensorflow``: whichever is installed)."""
    pins = []
    for package in packages:
        try:
            pins.append(f"{package}=={importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return pins


def log_pyfunc_model(
    python_model: PythonModel,
    *,
    name: str,
    save_artifacts: Callable[[Path], Mapping[str, str]],
    example: pd.DataFrame,
    output: pd.DataFrame,
    params: dict[str, Any],
    requirements: list[str],
) -> str:
    """Log a pyfunc model to the active run.

    Args:
        python_model: The (unloaded) wrapper; its ``load_context`` reads the artifacts.
        name: Model name within the run.
        save_artifacts: Writes the fitted model into the given temporary folder and
            returns the artifacts' names and paths.
        example: A small input example (stored with the model: never real people's rows).
        output: The model's output on ``example`` (for the signature).
        params: Inference parameters with their defaults (for the signature).
        requirements: Pinned requirements (see :func:`pinned_requirements`).

    Returns:
        The logged model's URI.
    """
    import forecasting

    with warnings.catch_warnings():  # "integer columns cannot hold NaN": ours never do
        warnings.simplefilter("ignore", UserWarning)
        signature = mlflow.models.infer_signature(example, output, params=params)
    package_dir = Path(forecasting.__file__).resolve().parent
    with tempfile.TemporaryDirectory() as tmp:
        artifacts = dict(save_artifacts(Path(tmp)))
        code = Path(tmp) / "code" / "forecasting"
        shutil.copytree(package_dir, code, ignore=shutil.ignore_patterns("__pycache__"))
        info = mlflow.pyfunc.log_model(
            name=name,
            python_model=python_model,
            artifacts=artifacts,
            signature=signature,
            input_example=(example, params),
            pip_requirements=requirements,
            code_paths=[str(code)],
        )
    return str(info.model_uri)
