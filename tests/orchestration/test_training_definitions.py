"""The training wiring: assets, jobs, schedule and sensor in the Definitions object, the training pool, the
per-family cron, the lock that stops a second training, and the guard that keeps a schedule or sensor from
queueing a second run of a family on a dataset that is already training."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from assets.training import TRAINING_TAG, TrainingInProgress, training_lock
from orchestration.definitions import defs
from orchestration.instance import render_instance_config
from orchestration.schedules import retrain_requests, retrain_schedule, training_in_progress
from vton.home import VtonHome

FAMILY_ASSETS = {"autoarm_checkpoint", "autoarm_predictions", "eval_autoarm", "eval_rough_mask"}


def test_definitions_hold_the_family_assets_jobs_schedule_and_sensor():
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    assert {dg.AssetKey(name) for name in FAMILY_ASSETS} <= graph.get_all_asset_keys()
    checkpoint = defs.resolve_assets_def("autoarm_checkpoint")
    assert checkpoint.op.pool == "training"
    assert graph.get(checkpoint.key).parent_keys == {dg.AssetKey("dataset_shards")}
    assert graph.get(dg.AssetKey("autoarm_predictions")).parent_keys == {checkpoint.key}
    for name in ("eval_autoarm", "eval_rough_mask"):
        node = graph.get(dg.AssetKey(name))
        assert node.parent_keys == {dg.AssetKey("autoarm_predictions")}
        assert node.partitions_def.name == "datasets"
    # evaluation follows every new checkpoint: predictions and evaluations are eager; training is not
    for name in ("autoarm_predictions", "eval_autoarm", "eval_rough_mask"):
        assert "eager" in str(graph.get(dg.AssetKey(name)).automation_condition).lower()
    assert graph.get(checkpoint.key).automation_condition is None

    train_job = defs.resolve_job_def("autoarm_train_job")
    assert train_job.tags[TRAINING_TAG] == "autoarm" and train_job.partitions_def.name == "datasets"
    assert set(train_job.asset_layer.asset_graph.get_all_asset_keys()) >= {checkpoint.key}
    evaluate = defs.resolve_job_def("evaluate_job")  # the baselines only: `vton evaluate --dataset` as before
    assert not {dg.AssetKey("eval_autoarm"), dg.AssetKey("eval_rough_mask")} & set(
        evaluate.asset_layer.executable_asset_keys
    )
    family_eval = defs.resolve_job_def("autoarm_evaluate_job")
    assert set(family_eval.asset_layer.executable_asset_keys) == {
        dg.AssetKey("eval_autoarm"),
        dg.AssetKey("eval_rough_mask"),
    }

    schedule = defs.resolve_schedule_def("autoarm_retrain_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedule.job_name == "autoarm_train_job" and schedule.cron_schedule == "0 3 * * 0"
    sensor = defs.resolve_sensor_def("autoarm_new_data_sensor")
    assert sensor.job_name == "autoarm_train_job"


def test_retrain_cron_is_set_per_family_by_environment(monkeypatch):
    monkeypatch.setenv("VTON_RETRAIN_CRON_AUTOARM", "30 1 * * *")
    schedule = retrain_schedule("autoarm")
    assert schedule.cron_schedule == "30 1 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def test_dagster_yaml_limits_the_training_pool_to_one_run(tmp_path, monkeypatch):
    (tmp_path / "dagster.yaml").write_text(render_instance_config(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    instance = dg.DagsterInstance.get()
    try:
        pools = instance.get_concurrency_config().pool_config
        assert pools.default_pool_limit == 1
        assert pools.pool_granularity.value == "run"  # a second training run waits in the queue
    finally:
        instance.dispose()


def test_training_lock_refuses_a_second_holder_and_frees_on_exit(vton_home):
    home = VtonHome(vton_home)
    with training_lock(home, "autoarm", "ds"):
        with pytest.raises(
            TrainingInProgress, match=r"autoarm is already training on dataset 'ds' \(pid \d+"
        ):
            with training_lock(home, "autoarm", "ds"):
                pass
        with training_lock(home, "autoarm", "other"):  # another dataset trains beside it
            pass
    with training_lock(home, "autoarm", "ds"):  # released
        pass


def _training_run(instance: dg.DagsterInstance, dataset: str, status: dg.DagsterRunStatus) -> str:
    run = instance.create_run_for_job(
        defs.resolve_job_def("autoarm_train_job"),
        tags={TRAINING_TAG: "autoarm", "dagster/partition": dataset},
        status=status,
    )
    return run.run_id


def test_guard_skips_datasets_already_training(ephemeral_instance):
    ephemeral_instance.add_dynamic_partitions("datasets", ["busy", "idle", "done"])
    running = _training_run(ephemeral_instance, "busy", dg.DagsterRunStatus.STARTED)
    _training_run(ephemeral_instance, "done", dg.DagsterRunStatus.SUCCESS)

    assert training_in_progress(ephemeral_instance, "autoarm", "busy") == running
    assert training_in_progress(ephemeral_instance, "autoarm", "done") is None
    requests = retrain_requests(
        ephemeral_instance,
        "autoarm",
        [
            ("busy", "tiny", None),
            ("idle", "paper", "k1"),
            ("done", "tiny", None),
            ("unregistered", "tiny", None),
        ],
        "test",
    )
    assert [(r.partition_key, r.run_key) for r in requests] == [("idle", "k1"), ("done", None)]
    config = requests[0].run_config["ops"]["autoarm_checkpoint"]["config"]
    assert config == {"preset": "paper"}

    waiting = _training_run(
        ephemeral_instance, "idle", dg.DagsterRunStatus.NOT_STARTED
    )  # created, not launched
    assert training_in_progress(ephemeral_instance, "autoarm", "idle") == waiting


def _registered(vton_home, dataset: str, preset: str, version: str) -> None:
    from models.registry import register_model

    checkpoint = vton_home / "fake" / dataset / "step-00000001"
    checkpoint.mkdir(parents=True)
    (checkpoint / "model.safetensors").write_bytes(dataset.encode())
    register_model(
        VtonHome(vton_home),
        family="autoarm",
        preset=preset,
        checkpoint=checkpoint,
        train_dataset=dataset,
        dataset_version=version,
        config_hash="c0ffee",
        metrics={},
    )


def _materialized(instance: dg.DagsterInstance, asset: str, dataset: str, version: str) -> None:
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset, partition=dataset, metadata={"dataset_version": version})
    )


def test_schedule_tick_retrains_every_trained_dataset_with_its_preset(vton_home):
    from orchestration.resources import PathsResource

    schedule = defs.resolve_schedule_def("autoarm_retrain_schedule")
    tick = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    with dg.instance_for_test() as instance:  # a schedule context needs an instance it can reload

        def evaluate() -> dg.SkipReason | list[dg.RunRequest]:
            context = dg.build_schedule_context(
                instance=instance, resources={"paths": PathsResource()}, scheduled_execution_time=tick
            )
            return schedule(context)

        assert isinstance(evaluate(), dg.SkipReason)  # nothing registered yet
        instance.add_dynamic_partitions("datasets", ["hd", "dc"])
        _registered(vton_home, "hd", "paper", "v1")
        _registered(vton_home, "dc", "tiny", "v1")
        _training_run(instance, "dc", dg.DagsterRunStatus.STARTED)
        requests = evaluate()
    assert [
        (r.partition_key, r.run_config["ops"]["autoarm_checkpoint"]["config"]["preset"]) for r in requests
    ] == [("hd", "paper")]
    assert requests[0].run_key == f"autoarm_retrain_schedule:hd:{tick.isoformat()}"


def test_new_dataset_version_requests_one_retraining(vton_home, ephemeral_instance):
    from orchestration.resources import PathsResource

    sensor = defs.resolve_sensor_def("autoarm_new_data_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING

    def tick() -> list[tuple[str, str]]:
        context = dg.build_sensor_context(instance=ephemeral_instance, resources={"paths": PathsResource()})
        return [(r.partition_key, r.run_key) for r in sensor(context).run_requests]

    ephemeral_instance.add_dynamic_partitions("datasets", ["hd", "untrained"])
    _registered(vton_home, "hd", "tiny", "v1")
    _materialized(ephemeral_instance, "dataset_shards", "hd", "v1")
    _materialized(ephemeral_instance, "autoarm_checkpoint", "hd", "v1")
    _materialized(ephemeral_instance, "dataset_shards", "untrained", "v7")  # never trained: not retrained
    assert tick() == []

    _materialized(ephemeral_instance, "dataset_shards", "hd", "v2")  # a new version lands
    assert tick() == [("hd", "autoarm:hd:v2")]
    _training_run(ephemeral_instance, "hd", dg.DagsterRunStatus.STARTED)
    assert tick() == []  # already training: no second run queued
