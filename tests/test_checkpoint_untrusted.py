"""Issue 13 in the library: crafted checkpoints are refused with a CheckpointError naming the problem.

Each case is one of the ~85 probes that broke the app: deep JSON nesting (RecursionError), a
5000-digit integer (ValueError of Python's int-string limit), badly typed metrics that loaded and
then broke pages, model-size bombs in otherwise valid configs (``dmey`` at depth 16), and a bool
given as a number. The app-level counterparts are in ``tests/test_app_untrusted_checkpoints.py``.
"""

from __future__ import annotations

import json
import math
import struct

import pytest
import torch

import multires.model as model_module
from conftest import rewrite_checkpoint
from multires import ModelConfig, MultiresConv
from multires.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint
from multires.checkpoint.format import read_metadata
from multires.checkpoint.metrics import SchemaError, validate_metrics
from multires.checkpoint.safejson import JsonLimitError, json_depth, loads_bounded
from multires.cost import ConfigCostError, parameter_count
from multires.model import build_model
from multires.options import MAX_JSON_DEPTH, MAX_KERNEL_VALUES, MAX_PARAMETERS, MAX_RECEPTIVE_FIELD

CONFIG = ModelConfig(d_model=4, n_layers=2, seq_len=64)
METRICS = {"task": "digits", "kind": "classify", "metric_name": "accuracy", "test_metric": 0.5, "train_time_s": 1.5,
           "steps": 4, "total_steps": 4, "train_config": {"seed": 0, "freeze_filters": False},
           "history": {"step": [1, 2], "loss": [2.0, 1.0], "metric": [0.1, 0.2], "lr": [0.01, 0.01]}}
GOOD = checkpoint_bytes(build_model(CONFIG, seed=3).eval(), METRICS)
DEEP = "[" * 100_000 + "]" * 100_000


def with_metrics(metrics_text: str) -> bytes:
    return rewrite_checkpoint(GOOD, metadata=lambda m: {**m, "metrics": metrics_text})


def with_metric(**fields) -> bytes:
    return with_metrics(json.dumps({**METRICS, **fields}))


def with_config(**fields) -> bytes:
    config = {**json.loads(CONFIG.to_json()), **fields}
    return rewrite_checkpoint(GOOD, metadata=lambda m: {**m, "config": json.dumps(config)})


def raw_header(header: str) -> bytes:
    body = header.encode()
    return struct.pack("<Q", len(body)) + body


def refused(data: bytes, match: str) -> None:
    """Both readers refuse ``data`` with a CheckpointError matching ``match`` (and nothing else)."""
    for reader in (read_metadata, load_checkpoint):
        with pytest.raises(CheckpointError, match=match):
            reader(data)


# --- 1. JSON beyond its bounds -----------------------------------------------------------------------


@pytest.mark.parametrize("where", ["header", "config", "metrics"])
def test_deep_nesting_is_refused_without_recursion(where):
    data = {"header": lambda: raw_header(DEEP),
            "config": lambda: rewrite_checkpoint(GOOD, metadata=lambda m: {**m, "config": DEEP}),
            "metrics": lambda: with_metrics(json.dumps({"note": "x"})[:-1] + ', "deep": ' + DEEP + "}")}[where]()
    refused(data, f"nests 100001 levels deep|nests 100000 levels deep, more than the {MAX_JSON_DEPTH} allowed")


def test_nesting_at_the_bound_parses_and_one_more_is_refused():
    deepest = loads_bounded("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    for _ in range(MAX_JSON_DEPTH - 1):
        deepest = deepest[0]
    assert deepest == []
    with pytest.raises(JsonLimitError, match="nests"):
        loads_bounded("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))


def test_brackets_inside_strings_do_not_count():
    text = json.dumps({"a": "[" * 1000 + '\\"' + "{" * 1000})
    assert json_depth(text) == 1
    assert loads_bounded(text)["a"].startswith("[[[")


def test_a_5000_digit_integer_in_the_metrics_is_refused():
    refused(with_metrics('{"task": "digits", "steps": ' + "9" * 5000 + "}"), "more than 40 digits")


@pytest.mark.parametrize("text", ['{"test_metric": NaN}', '{"test_metric": Infinity}', '{"test_metric": 1e999}'])
def test_non_finite_numbers_in_the_metrics_are_refused(text):
    refused(with_metrics(text), "NaN|Infinity|too large for a float")


# Issue 23: a string of escaped quotes that never ends ("\"\"\"...) took a backtracking string pattern
# quadratic time (50 KB: 7 s, 200 KB: 115 s, the 8 MiB header cap: hours, holding the interpreter).
# The parse is linear now: each file below, at the largest size a header allows, is refused at once
# (the per-test timeout catches a return of the quadratic pattern; no time is asserted).

HOSTILE_QUOTES = 3_000_000  # 6 MB of \" (the header cap is 8 MiB)


@pytest.mark.timeout(300)
def test_an_unterminated_string_of_escaped_quotes_in_the_header_is_refused():
    header = '"' + '\\"' * HOSTILE_QUOTES
    refused(raw_header(header), "not valid JSON|Unterminated string")


@pytest.mark.timeout(300)
def test_an_unterminated_string_of_escaped_quotes_in_the_metrics_is_refused():
    refused(with_metrics('"' + '\\"' * (HOSTILE_QUOTES // 2)), "metrics is not valid JSON")


@pytest.mark.parametrize(("text", "depth"), [('"a\\\\"', 0), ('"\\\\\\""', 0), ('["\\\\", "[", "\\"["]', 1),
                                           ('{"\\\\\\\\": [[]], "]": "\\\\\\"{"}', 3)])
def test_escaped_backslashes_before_a_quote_are_counted_in_pairs(text, depth):
    assert loads_bounded(text) == json.loads(text)
    assert json_depth(text) == depth


@pytest.mark.timeout(300)
def test_a_seed_suffix_is_stripped_in_linear_time_from_a_hostile_name():
    from multires.figures.compare import _without_seed

    assert _without_seed("digits · haar · seed 12") == "digits · haar"
    assert _without_seed("a ·  seed 1x") == "a ·  seed 1x"
    hostile = " " * 2_000_000 + "x"  # the old pattern backtracked over every run of spaces: 20 k took 2 s
    assert _without_seed(hostile) == hostile


# --- 2. badly typed metrics, each refused naming the field ------------------------------------------------

BAD_METRICS = {
    "history-list": ({"history": [1, 2, 3]}, r"field history must be a JSON object"),
    "history-string": ({"history": "loss went down"}, r"field history must be a JSON object"),
    "history-without-loss": ({"history": {"step": [1, 2], "metric": [0.1, 0.2]}}, r"field history lacks \['loss'\]"),
    "history-ragged": ({"history": {"step": [1, 2], "loss": [1.0], "metric": [0.1, 0.2]}}, "equal lengths"),
    "history-text-points": ({"history": {"step": [1], "loss": ["1.0"], "metric": [0.1]}}, r"history\.loss\[0\]"),
    "test_metric-text": ({"test_metric": "0.9"}, "field test_metric must be a finite number"),
    "test_metric-bool": ({"test_metric": True}, "field test_metric must be a finite number"),
    "train_time_s-text": ({"train_time_s": "fast"}, "field train_time_s must be a finite number"),
    "train_time_s-null": ({"train_time_s": None}, "field train_time_s must be a finite number"),
    "total_steps-text": ({"total_steps": "100"}, "field total_steps must be an integer"),
    "total_steps-float": ({"total_steps": 1.5}, "field total_steps must be an integer"),
    "metric_name-number": ({"metric_name": 3}, "field metric_name must be one of"),
    "metric_name-unknown": ({"metric_name": "f1"}, "field metric_name must be one of"),
    "task-list": ({"task": ["digits"]}, "field task must be text"),
    "train_config-number": ({"train_config": 5}, "field train_config must be a JSON object"),
    "train_config-freeze-text": ({"train_config": {"freeze_filters": "yes"}}, r"train_config\.freeze_filters"),
    "selection_history-junk": ({"selection_history": [{"step": 1}]}, r"selection_history\[0\] lacks"),
    "stopped-number": ({"stopped": 1}, "field stopped must be true or false"),
    "warnings-not-text": ({"warnings": [1]}, r"warnings\[0\] must be text"),
    "versions-nested": ({"versions": {"torch": {"x": 1}}}, r"versions\.torch must be text"),
}


@pytest.mark.parametrize("case", list(BAD_METRICS))
def test_badly_typed_metrics_are_refused_naming_the_field(case):
    fields, match = BAD_METRICS[case]
    refused(with_metric(**fields), match)
    with pytest.raises(SchemaError, match=match):  # the schema alone says the same
        validate_metrics({**METRICS, **fields})


def test_selection_masks_must_fit_the_config():
    mask = {"shape": [3, 4], "bits": "AAA="}  # 3 channels; this config has 4 and is not learned
    refused(with_metric(selection_history=[{"step": 0, "progress": 0.0, "masks": [mask]}]), "selection_history")


def test_unknown_metrics_fields_are_kept_and_good_metrics_round_trip():
    data = with_metric(note={"anything": [1, "two", None]})
    _config, metrics = read_metadata(data)
    assert metrics["note"] == {"anything": [1, "two", None]} and metrics["history"] == METRICS["history"]


def test_what_the_trainer_writes_fits_the_schema():
    from multires.data.tasks import load_task
    from multires.training.config import TrainConfig
    from multires.training.loop import train

    result = train(load_task("digits", seed=0), TrainConfig(epochs=1, d_model=4, n_layers=1, norm="layer", max_seconds=5))
    validate_metrics(json.loads(json.dumps(result.metrics())))  # raises on any misfit


# --- 3. what a config may cost -------------------------------------------------------------------------


def test_dmey_at_depth_16_is_refused_before_anything_is_built(monkeypatch):
    def forbidden(*_args, **_kwargs):
        raise AssertionError("a model was built for a refused config")

    data = with_config(d_model=1, wavelet="dmey", depth=16)
    assert len(data) < 4000  # the 2.4 KB bomb of the issue
    monkeypatch.setattr(model_module.MultiresNet, "__init__", forbidden)
    refused(data, f"receptive field .* = 3997636 samples .* more than the {MAX_RECEPTIVE_FIELD} allowed")


def test_config_cost_bounds_raise_config_cost_error():
    with pytest.raises(ConfigCostError, match="receptive field"):
        ModelConfig(wavelet="dmey", depth=16, d_model=1)
    with pytest.raises(ConfigCostError, match=f"kernel would hold .* more than the {MAX_KERNEL_VALUES}"):
        ModelConfig(d_model=512, seq_len=65536)
    with pytest.raises(ConfigCostError, match=f"parameters, more than the {MAX_PARAMETERS}"):
        ModelConfig(d_model=512, n_layers=16, seq_len=2048, tree_select="uniform", memory_size=2048)
    assert issubclass(ConfigCostError, ValueError)


def test_multiresconv_refuses_a_receptive_field_beyond_the_bound():
    with pytest.raises(ConfigCostError, match="receptive field"):
        MultiresConv(1, depth=16, wavelet="dmey")
    MultiresConv(1, depth=16, kernel_size=2)  # 65536 samples: within the bound


@pytest.mark.parametrize("config", [
    ModelConfig(d_model=4, n_layers=2, seq_len=64),
    ModelConfig(d_model=8, n_layers=3, seq_len=128, wavelet="db2", tree_select="uniform", memory_size=10, norm="layer"),
    ModelConfig(d_model=6, n_layers=1, seq_len=64, d_input=3, d_output=5, tree_select="learned", memory_size=8,
                wavelet=None, kernel_size=3),
])
def test_the_parameter_count_bounded_is_the_networks(config):
    net = build_model(config, seed=0)
    assert parameter_count(config.d_input, config.d_model, config.n_layers, config.resolved_kernel_size,
                           len(net.convs[0].slots), config.d_output) == net.n_parameters()


# --- 4. bools are not numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [False, True])
def test_dropout_as_a_bool_is_refused(value):
    with pytest.raises(ValueError, match="dropout must be in"):
        ModelConfig(dropout=value)
    refused(with_config(dropout=value), "dropout must be in")


def test_the_good_checkpoint_loads():
    net, config, metrics = load_checkpoint(GOOD)
    assert config == CONFIG and metrics["history"]["loss"] == [2.0, 1.0] and not math.isnan(metrics["test_metric"])
    assert torch.isfinite(next(net.parameters())).all()


# --- issue 23: a task name from a checkpoint's metrics never becomes a link in the browser -------------

HOSTILE_TASKS = ["[click me](javascript:alert(1)//https://evil.example/x)",
                 '<a href="https://evil.example/t">digits</a>']


@pytest.mark.slow
@pytest.mark.browser
def test_hostile_task_names_show_as_text_on_compare_in_the_browser(app_server, chromium, tmp_path):
    """Two checkpoints whose metrics name their task with a Markdown link and an <a href>: on Compare
    the Task options, the chart titles, legends and hover texts hold no link; the text reads as typed."""
    from conftest import injected_links, upload_in_browser, wait_for_app_idle

    page = chromium.new_page(viewport={"width": 1440, "height": 900})
    page.set_default_timeout(300_000)
    try:
        page.goto(f"{app_server.url}/train", wait_until="domcontentloaded")
        wait_for_app_idle(page)
        for i, task in enumerate(HOSTILE_TASKS):
            path = tmp_path / f"hostile{i}.safetensors"
            path.write_bytes(with_metric(task=task))
            page.get_by_role("tab", name="Load a checkpoint").click()
            upload_in_browser(page, path)
            page.get_by_text(f"hostile{i}").first.wait_for(state="attached")
        page.locator('[data-testid="stSidebarNav"] a', has_text="Compare").first.click()
        wait_for_app_idle(page)
        for task in HOSTILE_TASKS:
            page.get_by_text(task.split("(")[0][:12]).first.wait_for(state="attached")
            option = page.locator('[data-testid="stRadio"] label', has_text=task[:10]).first
            option.click()
            wait_for_app_idle(page)
            page.wait_for_selector(".js-plotly-plot")
            assert task in option.inner_text().replace("\u2060", ""), "the option reads as typed"
            assert injected_links(page) == []
            assert page.locator(".js-plotly-plot a").count() == 0, "no link inside any chart"
    finally:
        page.close()
