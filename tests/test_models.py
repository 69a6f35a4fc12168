"""Whole models (issue 12): user factories as sides, the automatic weight map, and layer-by-layer localisation.

Each planted bug lives in one layer of a MindSpore port (tests/planted_ports.py); the report must name exactly
that layer first, forward, or backward for a bug only the gradient sees.
"""

from __future__ import annotations

import pytest

from conftest import ROOT, read_json
from eqcheck.report import schema
from eqcheck.spec import allowlist

pytestmark = pytest.mark.frameworks

EXAMPLES = ROOT / "examples" / "models"
ALLOW = ("--allow-module", "examples.models", "--allow-module", "tests.planted_ports")


@pytest.fixture(autouse=True)
def no_modules_opted_in(monkeypatch):
    """--allow-module writes the environment (for worker processes): restore it after every test.

    setenv, not delenv: monkeypatch records nothing for deleting an absent variable, and the CLI's write would leak."""
    monkeypatch.setenv(allowlist.MODULES_ENV, "")
    monkeypatch.chdir(ROOT)


def port(tmp_path, example: str, factory: str):
    """The example spec with its MindSpore side replaced by a planted port."""
    text = (EXAMPLES / f"{example}.yaml").read_text()
    side = {"cnn": "examples.models.cnn_mindspore:SmallCNN", "encoder": "examples.models.encoder_mindspore:EncoderBlock"}[example]
    assert side in text
    path = tmp_path / f"{factory}.yaml"
    path.write_text(text.replace(side, f"tests.planted_ports:{factory}"))
    return path


def run(cli, spec, tmp_path, *extra):
    report = tmp_path / "report.json"
    result = cli("run", spec, *ALLOW, "--json", report, *extra)
    return result, read_json(report) if report.exists() else None


def test_the_example_ports_pass_layer_by_layer_and_in_training(cli, tmp_path):
    result, document = run(cli, EXAMPLES, tmp_path)
    assert result.exit_code == 0, result.text
    cases = {c["id"]: c for c in document["cases"]}
    assert set(cases) == {"model.SmallCNN[float32]", "model.EncoderBlock[float32]", "model.TextClassifier[float32]",
                          "model.SmallCNN.train_sgd[float32]", "model.EncoderBlock.train_adam[float32]"}
    assert schema.errors(document) == []
    for case in cases.values():
        forward = case["layers"]["forward"]
        assert forward["first_divergent"] is None and all(r["passed"] for r in forward["rows"]), forward["rows"]
        assert len(forward["rows"]) >= 4
    for name in ("model.SmallCNN[float32]", "model.EncoderBlock[float32]", "model.TextClassifier[float32]"):
        backward = cases[name]["layers"]["backward"]
        assert backward["first_divergent"] is None and len(backward["rows"]) >= 3
        assert any(o["kind"] == "grad" for o in cases[name]["outputs"])
    cnn = cases["model.SmallCNN[float32]"]
    assert [r["name"] for r in cnn["layers"]["forward"]["rows"]] == ["conv1", "bn1", "act1", "pool", "conv2", "bn2", "act2", "fc"]
    assert {w["mindspore"] for w in cnn["weights"]} >= {"bn1.gamma", "bn1.beta", "bn1.moving_mean", "bn1.moving_variance"}
    assert "first layer to deviate" not in result.text

    sgd = cases["model.SmallCNN.train_sgd[float32]"]
    assert sgd["training"]["optimizer"] == "sgd" and sgd["training"]["args"]["momentum"] == 0.9
    steps = {o["name"].split(":")[0] for o in sgd["outputs"] if o["kind"] == "train"}
    assert steps == {"step1", "step2", "step3"}
    assert "step3:bn2.running_var" in {o["name"] for o in sgd["outputs"]}  # batch statistics moved, and agree
    adam = cases["model.EncoderBlock.train_adam[float32]"]
    # softmax ignores the key bias: its true gradient is 0, so Adam's steps on it are noise and left out
    assert adam["training"]["noise_excluded"]["attn.k.bias"] == 16
    assert sum(adam["training"]["noise_excluded"].values()) < 16 + 8  # and hardly anything else


def test_adams_eps_placement_is_caught_when_eps_matters(cli, tmp_path):
    # MindSpore's nn.Adam adds eps before the bias correction: with a large eps the steps differ from the first.
    spec = tmp_path / "adam.yaml"
    spec.write_text((EXAMPLES / "encoder_train.yaml").read_text().replace("{adam: {lr: 0.01}}", "{adam: {lr: 0.01, eps: 1.0e-3}}"))
    result, document = run(cli, spec, tmp_path)
    assert result.exit_code == 1, result.text
    (case,) = document["cases"]
    assert case["training"]["args"]["eps"] == 1e-3
    assert case["training"]["first_divergent"]["step"] == 1
    assert "parameters differ after optimizer step 1" in case["message"]


@pytest.mark.parametrize("train, message", [
    ("train: {optimizer: sgd}", "field 'train.optimizer.sgd.lr': the learning rate is required"),
    ("train: {optimizer: {adamw: {lr: 0.1}}}", "unknown optimizer 'adamw'"),
    ("train: {optimizer: {sgd: {lr: 0.1, betas: 2}}}", "unknown key 'betas'"),
    ("train: {steps: 0, optimizer: {sgd: {lr: 0.1}}}", "field 'train.steps'"),
])
def test_a_bad_train_section_is_a_spec_error(cli, tmp_path, train, message):
    spec = tmp_path / "train.yaml"
    spec.write_text((EXAMPLES / "cnn.yaml").read_text() + f"mode: train\n{train}\n")
    result = cli("validate", spec, *ALLOW)
    assert result.exit_code == 2 and message in result.text, result.text
    spec.write_text((EXAMPLES / "cnn.yaml").read_text() + "train: {optimizer: {sgd: {lr: 0.1}}}\n")
    result = cli("validate", spec, *ALLOW)
    assert result.exit_code == 2 and "need mode: train" in result.text


@pytest.mark.parametrize("example, factory, layer", [
    ("encoder", "EncoderLayerNormEpsilon", "ln2"),
    ("encoder", "EncoderGeluTanh", "ffn.act"),
    ("encoder", "EncoderTransposedDense", "attn.o"),
    ("cnn", "CNNTrainingBatchNorm", "bn2"),
])
def test_a_planted_bug_is_named_first_forward(cli, tmp_path, example, factory, layer):
    result, document = run(cli, port(tmp_path, example, factory), tmp_path, "--no-grad")
    assert result.exit_code == 1, result.text
    (case,) = document["cases"]
    forward = case["layers"]["forward"]
    assert forward["first_divergent"] == layer
    rows = forward["rows"]
    culprit = next(i for i, r in enumerate(rows) if r["name"] == layer)
    assert all(r["passed"] for r in rows[:culprit])  # every layer before it agrees
    assert f"first layer to deviate (forward): {layer} (" in result.text
    assert "backward" not in case["layers"]


def test_a_gradient_only_bug_is_named_walking_backwards(cli, tmp_path):
    page = tmp_path / "report.html"
    result, document = run(cli, port(tmp_path, "encoder", "EncoderGradientOnly"), tmp_path, "--html", page)
    assert result.exit_code == 1, result.text
    (case,) = document["cases"]
    assert case["layers"]["forward"]["first_divergent"] is None  # the forward is right
    assert all(o["passed"] for o in case["outputs"] if o["kind"] == "output")
    backward = case["layers"]["backward"]
    assert backward["first_divergent"] == "ffn.act"
    assert [r["name"] for r in backward["rows"]][:2] == ["ffn.fc2", "ffn.act"]  # reached in reverse order
    assert backward["rows"][0]["passed"] is True
    assert "after_forward_deviation" not in backward
    assert "first layer to deviate (backward): ffn.act (GELU / StraightThroughGelu)" in result.text
    html = page.read_text()  # the growth chart, one bar per layer, the culprit outlined
    assert 'aria-label="deviation per layer (forward)"' in html and 'aria-label="deviation per layer (backward)"' in html
    assert "first layer to deviate: <span class=bad>ffn.act</span>" in html
    assert "ffn.act (GELU / StraightThroughGelu): max abs" in html and "first to deviate; mindspore is" in html  # anchored


@pytest.mark.parametrize("example, factory, layer, upstream", [
    ("encoder", "EncoderGradientOnly", "ffn.act", ("ffn.fc1", "ln2", "attn.o", "attn.q", "ln1")),  # a stop_gradient inside
    ("cnn", "CNNWrongBprop", "act2", ("bn2", "conv2", "act1", "bn1", "conv1")),  # a hand-written bprop without the mask
])
def test_a_layer_with_a_wrong_backward_is_named_by_its_local_backward_verdict(cli, tmp_path, example, factory, layer, upstream):
    """Each layer differentiated alone on the reference side's inputs and output gradient: the culprit fails alone,
    every layer backpropagation reaches after it fails accumulated yet passes alone."""
    result, document = run(cli, port(tmp_path, example, factory), tmp_path)
    assert result.exit_code == 1, result.text
    (case,) = document["cases"]
    backward = case["layers"]["backward"]
    assert backward["first_divergent"] == layer
    rows = {r["name"]: r for r in backward["rows"]}
    culprit = rows[layer]
    assert culprit["local"]["passed"] is False and culprit["passed"] is False
    assert culprit["local"]["attribution"]["outlier"] == "mindspore"  # anchored to float64: not rounding
    for name in upstream:
        assert rows[name]["accumulated_passed"] is False and rows[name]["local"]["passed"] is True, name
    before = [r for r in backward["rows"][:backward["rows"].index(culprit)]]
    assert before and all(r["passed"] and r["local"]["passed"] for r in before)
    assert all("local" in r for r in case["layers"]["forward"]["rows"]) and case["layers"]["forward"]["first_divergent"] is None
    assert f"first layer to deviate (backward): {layer} (" in result.text
    assert "differentiated alone on the reference side's inputs and output gradient" in result.text
    assert schema.errors(document) == []


def test_user_code_is_refused_unless_the_operator_opts_it_in(cli, tmp_path, monkeypatch):
    spec = EXAMPLES / "cnn.yaml"
    refused = cli("validate", spec)
    assert refused.exit_code == 2
    assert "field 'torch.model'" in refused.text and "--allow-module examples" in refused.text
    assert "Traceback" not in refused.text
    assert cli("validate", spec, "--allow-module", "examples.models").exit_code == 0
    monkeypatch.setenv(allowlist.MODULES_ENV, "examples.models.cnn_torch")  # only the torch side: still refused
    partly = cli("validate", spec)
    assert partly.exit_code == 2 and "field 'mindspore.model'" in partly.text
    monkeypatch.setenv(allowlist.MODULES_ENV, "examples")
    assert cli("validate", spec).exit_code == 0


def test_a_factory_that_is_not_a_model_or_cannot_import_is_a_clear_error(cli, tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text((EXAMPLES / "cnn.yaml").read_text().replace("cnn_mindspore:SmallCNN", "cnn_mindspore:NoSuchNet"))
    result, _ = run(cli, spec, tmp_path)
    assert result.exit_code == 2, result.text
    assert "field 'mindspore.model'" in result.text and "NoSuchNet" in result.text
    spec.write_text((EXAMPLES / "cnn.yaml").read_text().replace("model: examples.models.cnn_torch:SmallCNN",
                                                                  "op: torch.nn.Linear"))
    result, _ = run(cli, spec, tmp_path)
    assert result.exit_code == 2 and "unknown key 'op'" in result.text


def test_map_pairs_renamed_layers_module_by_module_for_review(cli, tmp_path):
    result = cli("map", port(tmp_path, "cnn", "CNNRenamedHead"), *ALLOW)
    assert result.exit_code == 0, result.text
    line = next(line for line in result.text.splitlines() if line.strip().startswith("fc.weight"))
    assert "head.weight" in line and "module" in line
    assert "bn1.moving_variance" in result.text and "bn1.num_batches_tracked" in result.text
    fc = next(line for line in result.text.splitlines() if line.strip().startswith("fc ") and "head" in line)
    assert "weights" in fc


def test_an_unmatched_parameter_is_refused_with_the_full_list(cli, tmp_path):
    spec = port(tmp_path, "cnn", "CNNConvWithoutBias")
    for command in ("map", "run"):
        result = cli(command, spec, *ALLOW)
        assert result.exit_code == 2, result.text
        assert "unpaired on torch: conv2.bias [16]; unpaired on mindspore: none" in result.text
        assert "Traceback" not in result.text


def test_an_override_in_the_spec_wins_over_the_automatic_map(cli, tmp_path):
    # Plant a wrong override: the reviewer's word is taken, and the numbers then show the mistake.
    spec = port(tmp_path, "encoder", "EncoderGeluTanh")
    spec.write_text(spec.read_text().replace("EncoderGeluTanh", "EncoderBlock").replace("tests.planted_ports", "examples.models.encoder_mindspore")
                    + "weights:\n  attn.q.weight: {torch: attn.q.weight, mindspore: attn.k.weight}\n"
                      "  attn.k.weight: {torch: attn.k.weight, mindspore: attn.q.weight}\n")
    listing = cli("map", spec, *ALLOW)
    assert listing.exit_code == 0, listing.text
    assert any("attn.q.weight" in line and "attn.k.weight" in line and "override" in line for line in listing.text.splitlines())
    result, document = run(cli, spec, tmp_path, "--no-grad")
    assert result.exit_code == 1
    # The crossed override spreads attn.q's parameters over two cells, so attn.q and attn.k are no longer
    # paired layers; replayed alone on torch's inputs, attn.o agrees (its accumulated row does not), and the
    # block holding the crossed pair is the first layer whose own computation differs.
    forward = document["cases"][0]["layers"]["forward"]
    assert not {"attn.q", "attn.k"} & {r["name"] for r in forward["rows"]}
    o = next(r for r in forward["rows"] if r["name"] == "attn.o")
    assert o["passed"] and o["accumulated_passed"] is False
    assert forward["first_divergent"] == "attn"
    assert document["cases"][0]["message"] == "first layer to deviate: attn (forward)"


def trained_cnn_state(path):
    """A torch SmallCNN whose BatchNorm statistics moved away from 0/1, saved as a state_dict."""
    import torch

    from examples.models.cnn_torch import SmallCNN

    torch.manual_seed(3)
    model = SmallCNN()
    model.train()
    model(torch.randn(8, 3, 16, 16) * 2 + 0.5)
    model.eval()
    torch.save(model.state_dict(), path)
    return model


def test_a_torch_state_dict_is_the_shared_set_and_exports_as_a_mindspore_checkpoint(cli, tmp_path):
    import mindspore as ms
    import numpy as np
    import torch

    from examples.models.cnn_mindspore import SmallCNN as PortCNN

    state = tmp_path / "cnn.pt"
    model = trained_cnn_state(state)
    result, document = run(cli, EXAMPLES / "cnn.yaml", tmp_path, "--weights", state)
    assert result.exit_code == 0, result.text
    assert document["settings"]["weights_file"] == str(state)

    ckpt = tmp_path / "cnn.ckpt"
    exported = cli("export", EXAMPLES / "cnn.yaml", *ALLOW, "--weights", state, "-o", ckpt)
    assert exported.exit_code == 0, exported.text
    port = PortCNN()
    not_loaded, _ = ms.load_param_into_net(port, ms.load_checkpoint(str(ckpt)))
    assert not_loaded == []
    port.set_train(False)
    np.testing.assert_array_equal(port.bn2.moving_variance.asnumpy(), model.bn2.running_var.numpy())
    x = np.random.default_rng(0).normal(size=(2, 3, 16, 16)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(port(ms.Tensor(x)).asnumpy(), expected, rtol=1.3e-6, atol=1e-5)


def test_a_state_dict_that_does_not_fit_is_refused(cli, tmp_path):
    import torch

    state = tmp_path / "cnn.pt"
    trained_cnn_state(state)
    weights = torch.load(state, weights_only=True)
    del weights["conv1.bias"]
    torch.save(weights, state)
    result, _ = run(cli, EXAMPLES / "cnn.yaml", tmp_path, "--weights", state)
    assert result.exit_code == 2, result.text
    assert "missing conv1.bias" in result.text and "field '--weights'" in result.text
    torch.save({"state_dict": weights, "epoch": 3}, state)
    result, _ = run(cli, EXAMPLES / "cnn.yaml", tmp_path, "--weights", state)
    assert result.exit_code == 2 and "torch.save(checkpoint['state_dict']" in result.text
    state.write_bytes(b"not a torch file")
    result, _ = run(cli, EXAMPLES / "cnn.yaml", tmp_path, "--weights", state)
    assert result.exit_code == 2 and "weights_only=True" in result.text and "Traceback" not in result.text


def test_model_specs_run_in_worker_processes_with_the_operators_opt_in(cli, tmp_path):
    result, document = run(cli, port(tmp_path, "encoder", "EncoderGeluTanh"), tmp_path, "--jobs", "1", "--no-grad")
    assert result.exit_code == 1, result.text  # the worker imported the opted-in port and named its layer
    assert document["cases"][0]["layers"]["forward"]["first_divergent"] == "ffn.act"
    assert document["settings"]["allowed_modules"] == ["examples.models", "tests.planted_ports"]


TIGHT = "tolerance: {float32: {rtol: 0, atol: 1.0e-8}}\n"  # below float32 rounding: every layer exceeds it


def test_float64_anchors_layer_rows_noise_passes_a_planted_bug_does_not(cli, tmp_path):
    correct = tmp_path / "tight.yaml"
    correct.write_text((EXAMPLES / "encoder.yaml").read_text() + TIGHT)
    result, document = run(cli, correct, tmp_path, "--no-grad", "--no-error-budget")
    assert result.exit_code == 1 and document["cases"][0]["layers"]["forward"]["first_divergent"] == "ln1"
    # The error budget re-runs a case with a failing layer in float64 by default; --reference float64 always does.
    for flags in ((), ("--reference", "float64")):
        result, document = run(cli, correct, tmp_path, "--no-grad", *flags)
        assert result.exit_code == 0, result.text
    rows = document["cases"][0]["layers"]["forward"]["rows"]
    assert all(r["passed"] for r in rows)
    assert any(r["attribution"]["within_noise"] for r in rows)
    assert "pass (within float32 noise)" in result.text

    planted = port(tmp_path, "encoder", "EncoderLayerNormEpsilon")
    planted.write_text(planted.read_text() + TIGHT)
    result, document = run(cli, planted, tmp_path, "--no-grad", "--reference", "float64")
    assert result.exit_code == 1, result.text
    forward = document["cases"][0]["layers"]["forward"]
    assert forward["first_divergent"] == "ln2"
    culprit = next(r for r in forward["rows"] if r["name"] == "ln2")
    assert culprit["attribution"]["outlier"] == "mindspore" and not culprit["attribution"]["within_noise"]
    assert schema.errors(document) == []


def test_in_place_relus_in_the_torch_model_keep_the_backward_walk(cli, tmp_path):
    spec = tmp_path / "inplace.yaml"
    text = (EXAMPLES / "cnn.yaml").read_text()
    spec.write_text(text.replace("examples.models.cnn_torch:SmallCNN", "tests.planted_ports:TorchCNNInplaceReLU"))
    result, document = run(cli, spec, tmp_path)
    assert result.exit_code == 0, result.text
    backward = document["cases"][0]["layers"]["backward"]
    assert backward["status"] == "compared" and {"act1", "act2"} <= {r["name"] for r in backward["rows"]}

    # An in-place op inside forward() on a hooked output: torch refuses full backward hooks, so the layer
    # gradients are recorded through tensor hooks on each layer's inputs, and the report says so in one sentence.
    spec.write_text(text.replace("examples.models.cnn_torch:SmallCNN", "tests.planted_ports:TorchCNNFunctionalInplace"))
    result, document = run(cli, spec, tmp_path)
    assert result.exit_code == 0, result.text
    (case,) = document["cases"]
    walk = case["layers"]["backward"]
    assert walk["status"] == "compared" and walk["first_divergent"] is None
    assert {"conv1", "bn1", "conv2", "fc"} <= {r["name"] for r in walk["rows"] if r["passed"]}
    assert "in place" in walk["note"] and "tensor hooks" in walk["note"] and walk["note"].endswith("instead.")
    assert case["gradients"]["status"] == "compared" and any(o["kind"] == "grad" for o in case["outputs"])
    assert walk["note"] in " ".join(result.text.split())


# ---- real ports (issue 19): names, buffers, outputs, factory errors, replayed layers ---------------------------


def test_weight_and_unmapped_names_may_have_numeric_parts(cli, tmp_path):
    spec = tmp_path / "numeric.yaml"
    spec.write_text((EXAMPLES / "cnn.yaml").read_text()
                    + "weights:\n  layer1.0.conv1.weight: {torch: conv1.weight, mindspore: conv1.weight}\n"
                      "unmapped:\n  torch: {h.0.attn.bias: not in this model}\n")
    result = cli("validate", spec, *ALLOW)
    assert result.exit_code == 0, result.text
    spec.write_text((EXAMPLES / "cnn.yaml").read_text() + "weights:\n  layer1..conv1: conv1.weight\n")
    result = cli("validate", spec, *ALLOW)
    assert result.exit_code == 2 and "is not a valid name" in result.text


def test_a_torch_buffer_outside_the_state_dict_is_left_unshared(cli, tmp_path):
    spec = tmp_path / "transient.yaml"
    spec.write_text((EXAMPLES / "cnn.yaml").read_text().replace("examples.models.cnn_torch:SmallCNN",
                                                                  "tests.planted_ports:TorchCNNTransientBuffer"))
    listing = cli("map", spec, *ALLOW)
    assert listing.exit_code == 0, listing.text
    line = next(line for line in listing.text.splitlines() if "channel_ids" in line)
    assert "persistent=False" in line
    result, document = run(cli, spec, tmp_path, "--no-grad")
    assert result.exit_code == 0, result.text


def test_output_picks_one_part_of_a_tuple_and_names_what_is_missing(cli, tmp_path):
    spec = tmp_path / "features.yaml"
    text = (EXAMPLES / "cnn.yaml").read_text().replace("  model: examples.models.cnn_torch:SmallCNN",
                                                       "  model: tests.planted_ports:TorchCNNWithFeatures\n  output: 0")
    spec.write_text(text)
    result, document = run(cli, spec, tmp_path)
    assert result.exit_code == 0, result.text
    assert [o["name"] for o in document["cases"][0]["outputs"]][0] == "out"
    spec.write_text(text.replace("output: 0", "output: logits"))
    result, document = run(cli, spec, tmp_path, "--no-grad")
    assert result.exit_code == 1
    assert "torch returned tuple (2 items): output 'logits' is not in it" in document["cases"][0]["message"]


def test_an_exception_in_a_factory_is_one_paragraph_naming_it(cli, tmp_path):
    spec = tmp_path / "raises.yaml"
    spec.write_text((EXAMPLES / "cnn.yaml").read_text().replace("examples.models.cnn_torch:SmallCNN",
                                                                  "tests.planted_ports:torch_cnn_that_raises"))
    listing = cli("map", spec, *ALLOW)
    assert listing.exit_code == 2 and "Traceback" not in listing.text, listing.text
    paragraph = " ".join(listing.text.split())
    assert "field 'torch.model'" in paragraph and "tests.planted_ports:torch_cnn_that_raises raised ValueError" in paragraph
    result, document = run(cli, spec, tmp_path)
    assert result.exit_code == 1 and document["cases"][0]["status"] == "error"
    assert "hidden_sizes must have 4 entries" in document["cases"][0]["message"]


def test_a_refused_map_shows_its_partial_proposal_and_the_full_command(cli, tmp_path):
    result = cli("map", port(tmp_path, "cnn", "CNNConvWithoutBias"), *ALLOW)
    assert result.exit_code == 2
    assert "partial weight map (13 paired, refused)" in result.text and "left unpaired" in result.text
    assert "--allow-module examples.models,tests.planted_ports` shows the partial proposal" in " ".join(result.text.split())


def test_map_lists_explicit_layer_pairs_and_every_unwatched_module(cli, tmp_path):
    spec = tmp_path / "lstm.yaml"
    spec.write_text((EXAMPLES / "lstm.yaml").read_text() + "layers:\n  - {torch: dropout, mindspore: dropout}\n")
    result = cli("map", spec, *ALLOW)
    assert result.exit_code == 0, result.text
    assert any(line.split()[:1] == ["dropout"] and line.split()[-1] == "spec" for line in result.text.splitlines())
    unwatched = result.text[result.text.index("not watched"):]
    assert "mindspore" in unwatched and "lstm.rnn" in unwatched


def test_state_that_differs_names_its_layer(cli, tmp_path):
    spec = port(tmp_path, "cnn", "CNNBatchNormMomentum")
    spec.write_text(spec.read_text() + "mode: train\n")
    result, document = run(cli, spec, tmp_path, "--no-grad")
    assert result.exit_code == 1, result.text
    (case,) = document["cases"]
    assert all(o["passed"] for o in case["outputs"] if o["kind"] == "output")
    assert "state differs after the call in bn2 (BatchNorm2d): running_mean, running_var" in case["message"]


def test_a_gradient_only_one_side_computes_is_a_divergence(cli, tmp_path):
    result, document = run(cli, port(tmp_path, "cnn", "CNNStopGradient"), tmp_path)
    assert result.exit_code == 1, result.text
    backward = document["cases"][0]["layers"]["backward"]
    assert backward["first_divergent"] == "conv2"
    culprit = next(r for r in backward["rows"] if r["name"] == "conv2")
    assert culprit["passed"] is False and "the candidate does not" in culprit["reason"]
    assert all(r["passed"] is False for r in backward["rows"] if r["name"] in ("act1", "bn1", "conv1"))


def test_each_model_spec_gets_a_fresh_worker_so_global_patches_do_not_leak(cli, tmp_path):
    folder = tmp_path / "specs"
    folder.mkdir()
    text = (EXAMPLES / "cnn.yaml").read_text()
    (folder / "a_patches.yaml").write_text(text.replace("examples.models.cnn_mindspore:SmallCNN",
                                                        "tests.planted_ports:cnn_that_patches_mindspore"))
    (folder / "b_plain.yaml").write_text(text.replace("name: model.SmallCNN", "name: model.SmallCNN.after"))
    result, document = run(cli, folder, tmp_path, "--jobs", "1", "--no-grad")
    assert result.exit_code == 0, result.text  # in one process, b's BatchNorm2d would be a BatchNorm1d
    assert [c["status"] for c in document["cases"]] == ["pass", "pass"]


def test_map_refuses_a_plan_whose_probe_call_failed(cli, tmp_path):
    # Issue 31: the MindSpore probe call failed and `map` still printed a plan resting on declaration order, exit 0.
    result = cli("map", port(tmp_path, "cnn", "CNNBatchOfOne"), *ALLOW)
    assert result.exit_code == 2 and "Traceback" not in result.text, result.text
    paragraph = " ".join(result.text.split())
    assert "weight map" in paragraph  # the plan is still shown, for review
    assert "field 'inputs'" in paragraph and "the probe call of case model.SmallCNN[float32] failed (mindspore:" in paragraph


def test_a_mindspore_layer_called_by_keyword_is_judged_alone_both_ways(cli, tmp_path):
    # MindSpore's backward hooks see no input passed by keyword: the row is judged by its replay, not failed
    result, document = run(cli, port(tmp_path, "encoder", "EncoderKeywordCall"), tmp_path)
    assert result.exit_code == 0, result.text
    (case,) = document["cases"]
    for direction in ("forward", "backward"):
        (row,) = [r for r in case["layers"][direction]["rows"] if r["ref"] == "attn"]
        assert row["passed"] and row["local"]["passed"], row
    (row,) = [r for r in case["layers"]["backward"]["rows"] if r["ref"] == "attn"]
    assert "does not see inputs passed by keyword" in row["note"]
