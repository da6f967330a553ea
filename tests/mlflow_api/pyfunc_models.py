"""A tiny pyfunc model. It lives in an importable module so that the pickle MLflow
writes refers to a class the loading side can import."""

import mlflow.pyfunc


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [2 * x for x in model_input]
