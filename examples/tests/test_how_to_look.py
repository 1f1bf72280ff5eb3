"""Where each example tells the learner to look at what it logged."""

from examples import how_to_look


def test_a_local_store_is_opened_with_mlflow_ui():
    lines = how_to_look("sqlite:////tmp/k/mlflow.db", "3")

    assert "  uv run mlflow ui --backend-store-uri sqlite:////tmp/k/mlflow.db" in lines
    assert lines[-1] == "then browse to http://127.0.0.1:5000/#/experiments/3"


def test_a_tracking_server_is_opened_where_it_runs_not_with_mlflow_ui():
    lines = how_to_look("http://127.0.0.1:5055/", "7")

    assert lines[-1] == "  http://127.0.0.1:5055/#/experiments/7"
    assert not any("mlflow ui" in line for line in lines)
