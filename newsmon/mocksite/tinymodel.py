"""Build small Argos Translate packages with random weights, without torch and without network.

Tests, the benchmark and offline demos need a real ``.argosmodel`` (metadata.json,
sentencepiece.model and a CTranslate2 model/ folder) to exercise the real install, loading and
translation path. The translations are gibberish; only the machinery is real. The output
projection is biased towards ``</s>`` so that random decoding stops after a few tokens.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

# Words in the scripts the mock site uses, so that the sentencepiece vocabulary covers them.
_WORD_TEXT = (
    "в сеть попали видео пыток колониях заключённых правозащитники проверку утечка ФСИН "
    "адвокаты требуют защиты письма из колонии комитет проверит сотрудники отрицают "
    "dette er lekkede torturvideoer fengsel varsleren sto fram krever uavhengig gransking "
    "æ ø å Æ Ø Å ja nei og i på til fra med "
    "the prison torture videos leaked officials deny whistleblower faces charges rights "
    "groups demand inquiry lawyers report "
    "0 1 2 3 4 5 6 7 8 9 , . ! ? : ; « » — - \" ' ( )"
)
_WORDS = _WORD_TEXT.split()


@dataclass(frozen=True)
class ModelSize:
    """Shape of the random Transformer; ``TINY`` for tests, ``BASE`` for throughput benchmarks."""

    encoder_layers: int = 1
    decoder_layers: int = 1
    d_model: int = 32
    ffn: int = 64
    heads: int = 2
    vocab_size: int = 160


TINY = ModelSize()
BASE = ModelSize(6, 6, 512, 2048, 8, 8000)


def training_lines(seed: int = 0, count: int = 400) -> list[str]:
    """Pseudo-sentences covering the characters of ru, nb and en text."""
    rnd = random.Random(seed)
    return [" ".join(rnd.choice(_WORDS) for _ in range(rnd.randint(4, 14))) for _ in range(count)]


def build_package(
    dest: str | Path,
    from_code: str,
    to_code: str,
    *,
    version: str = "1.0",
    seed: int = 0,
    size: ModelSize = TINY,
    corpus: list[str] | None = None,
    eos_bias: float = 4.0,
    weight_scale: float = 2.0,
    quantization: str | None = None,
    pad_vocabulary: bool = False,
) -> Path:
    """Write ``translate-<from>_<to>-<version>.argosmodel`` into ``dest`` and return its path."""
    import numpy as np
    import sentencepiece as spm
    from ctranslate2.specs import TransformerSpec, common_spec, model_spec

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    lines = list(corpus or ()) + training_lines(seed)
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=proto,
        vocab_size=size.vocab_size,
        hard_vocab_limit=False,
        model_type="unigram",
        character_coverage=1.0,
        normalization_rule_name="identity",
        minloglevel=2,
        num_threads=1,
    )
    processor = spm.SentencePieceProcessor(model_proto=proto.getvalue())
    vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    if pad_vocabulary:
        # a small corpus gives a small vocabulary; pad the model's to the size asked for, so
        # that the output layer costs what a real model's does
        vocabulary += [f"▁⟨{i}⟩" for i in range(size.vocab_size - len(vocabulary))]
    d = size.d_model
    rng = np.random.default_rng(seed)

    def linear(layer: common_spec.LinearSpec, rows: int, columns: int) -> None:
        scale = weight_scale / np.sqrt(columns)
        layer.weight = rng.normal(0.0, scale, (rows, columns)).astype(np.float32)

    def fill_common(spec: model_spec.LayerSpec) -> None:
        for value in list(vars(spec).values()):
            children = value if isinstance(value, list) else [value]
            for child in children:
                if isinstance(child, model_spec.LayerSpec):
                    fill_common(child)
        if isinstance(spec, common_spec.LayerNormSpec):
            spec.gamma = np.ones(d, np.float32)
            spec.beta = np.zeros(d, np.float32)
        elif isinstance(spec, common_spec.EmbeddingsSpec):
            spec.weight = rng.normal(0.0, 1.0, (len(vocabulary), d)).astype(np.float32)

    spec = TransformerSpec.from_config((size.encoder_layers, size.decoder_layers), size.heads)
    fill_common(spec)
    for layer in spec.encoder.layer:
        linear(layer.self_attention.linear[0], 3 * d, d)
        linear(layer.self_attention.linear[1], d, d)
        linear(layer.ffn.linear_0, size.ffn, d)
        linear(layer.ffn.linear_1, d, size.ffn)
    for layer in spec.decoder.layer:
        linear(layer.self_attention.linear[0], 3 * d, d)
        linear(layer.self_attention.linear[1], d, d)
        linear(layer.attention.linear[0], d, d)
        linear(layer.attention.linear[1], 2 * d, d)
        linear(layer.attention.linear[2], d, d)
        linear(layer.ffn.linear_0, size.ffn, d)
        linear(layer.ffn.linear_1, d, size.ffn)
    linear(spec.decoder.projection, len(vocabulary), d)
    bias = np.zeros(len(vocabulary), np.float32)
    bias[processor.eos_id()] = eos_bias
    spec.decoder.projection.bias = bias
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    spec.validate()
    if quantization:
        spec.optimize(quantization=quantization)

    name = f"translate-{from_code}_{to_code}-{version.replace('.', '_')}"
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / name
        (root / "model").mkdir(parents=True)
        spec.save(str(root / "model"))
        (root / "sentencepiece.model").write_bytes(proto.getvalue())
        metadata = {
            "package_version": version,
            "argos_version": "1.11",
            "type": "translate",
            "from_code": from_code,
            "from_name": from_code,
            "to_code": to_code,
            "to_name": to_code,
        }
        (root / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
        (root / "README.md").write_text(
            f"Random-weight {from_code}->{to_code} test model built by newsmon.", encoding="utf-8"
        )
        target = dest / f"{name}.argosmodel"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                archive.write(path, path.relative_to(scratch))
        shutil.rmtree(root)
    return target
