"""blazingtext (supervised mode): a fastText-style linear classifier over word n-grams.

Channels: ``train`` (required) and ``validation`` (optional), either File-mode text with one
``__label__<class> tokens...`` line per record, or augmented manifests in Pipe mode with
``AttributeNames`` ``[<text>, <label>]``. Words seen fewer than ``min_count`` times in training
are dropped, n-grams up to ``word_ngrams`` are hashed into ``buckets`` features and a logistic
model is trained for ``epochs`` with ``learning_rate``, early-stopping on validation accuracy
as the algorithm does. Metric: ``validation:accuracy``, the algorithm's only one.

Inference (``BlazingTextPredictor``) answers as the BlazingText page documents for text classification
(https://docs.aws.amazon.com/sagemaker/latest/dg/blazingtext.html, "Model Artifacts and Inference"):
application/json ``{"instances": ["text", ..], "configuration": {"k": 2}}`` answers a JSON array of
``{"prob": [..], "label": ["__label__x", ..]}``; application/jsonlines (what batch transform uses) reads one
``{"source": "text"}`` a line, with an optional ``"k"``, and answers one ``{"prob": [..], "label": [..]}`` a
line. Only the top class is given unless k asks for more, most likely first. "The content-type and accept
parameters must be equal ... If they differ, the Accept field is ignored": the answer follows the ContentType.
A Word2Vec model (any mode but supervised) is not a classifier; its inference is not emulated.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score

from . import serving
from .base import TrainingClientError, TrainingContext
from .tabular import save_model

# The names this container accepts, from its AWS documentation. Kept here, apart from the split step's
# contract tables (smx_split), on purpose: the emulated container must fail a job the way the real one
# does even where those tables have a gap, so that a gap shows up as a failed fold in the tests.
HYPERPARAMETERS = frozenset({
    "batch_size", "buckets", "early_stopping", "epochs", "evaluation", "learning_rate", "max_char",
    "min_char", "min_count", "min_epochs", "mode", "negative_samples", "patience", "sampling_threshold",
    "subwords", "vector_dim", "window_size", "word_ngrams",
})
_LABEL_PREFIX = "__label__"
_SEED = 0
_MAX_HASH_FEATURES = 2 ** 16  # fastText hashes into 2M buckets; capped so the local model stays small and fast


class BlazingText:
    algorithm = "blazingtext"

    def train(self, context: TrainingContext) -> None:
        hp = context.hyperparameters
        hp.reject_unknown(HYPERPARAMETERS)
        mode = hp.string("mode")
        if mode != "supervised":
            raise TrainingClientError(f"mode {mode!r} (Word2Vec) is not emulated; the local trainer runs mode=supervised")
        min_count = hp.integer("min_count", 5, minimum=0)
        word_ngrams = hp.integer("word_ngrams", 2, minimum=1)
        buckets = hp.integer("buckets", 2_000_000, minimum=1)
        hp.integer("vector_dim", 100, minimum=1)  # embedding size: the local linear model has no embeddings

        texts = {}
        for name in ("train", "validation"):
            reader = context.channel(name, required=name == "train")
            if reader is not None:
                texts[name] = _read(reader)
        context.training_started()

        train_tokens, train_labels = texts["train"]
        counts = Counter(token for tokens in train_tokens for token in tokens)
        vocabulary = {token for token, count in counts.items() if count >= min_count}
        vectorizer = HashingVectorizer(
            n_features=min(buckets, _MAX_HASH_FEATURES), ngram_range=(1, word_ngrams), analyzer="word",
            tokenizer=str.split, token_pattern=None, lowercase=False, alternate_sign=False, norm="l2")

        def features(token_lists: list[list[str]]):
            return vectorizer.transform([" ".join(t for t in tokens if t in vocabulary) for tokens in token_lists])

        classes = np.array(sorted(set(train_labels)))
        train_x, train_y = features(train_tokens), np.array(train_labels)
        validation = None
        if "validation" in texts:
            validation = (features(texts["validation"][0]), np.array(texts["validation"][1]))
        model = SGDClassifier(loss="log_loss", learning_rate="constant", eta0=hp.number("learning_rate", 0.05, minimum=0),
                              alpha=1e-6, random_state=_SEED)
        early_stopping = hp.boolean("early_stopping", False) and validation is not None
        patience = hp.integer("patience", 4, minimum=1)
        min_epochs = hp.integer("min_epochs", 5, minimum=1)
        best, stale = -np.inf, 0
        rng = np.random.default_rng(_SEED)
        for epoch in range(1, hp.integer("epochs", 5, minimum=1) + 1):
            context.check_stopping()
            order = rng.permutation(train_x.shape[0])
            model.partial_fit(train_x[order], train_y[order], classes=classes)
            if validation is not None:
                accuracy = accuracy_score(validation[1], model.predict(validation[0]))
                context.report_metric("validation:accuracy", accuracy)
                if early_stopping:
                    best, stale = (accuracy, 0) if accuracy > best else (best, stale + 1)
                    if epoch >= min_epochs and stale >= patience:
                        context.log(f"early stopping after epoch {epoch}")
                        break
        save_model(context.model_dir, {"vocabulary": sorted(vocabulary), "vectorizer": vectorizer, "model": model}, {
            "algorithm": self.algorithm, "mode": mode, "labels": [str(label) for label in classes],
            "vocabulary_size": len(vocabulary), "hyperparameters": hp.values,
        })


def _read(reader) -> tuple[list[list[str]], list[str]]:
    channel = reader.channel
    tokens, labels = [], []
    if channel.s3_data_type == "AugmentedManifestFile":
        if channel.input_mode != "Pipe":
            raise TrainingClientError(f"Channel '{channel.name}': augmented manifests are read in Pipe mode only")
        if len(channel.attribute_names) != 2:
            raise TrainingClientError(
                f"Channel '{channel.name}': AttributeNames must be [<text>, <label>], got {list(channel.attribute_names)}")
        for source, label in reader.manifest_records():
            if isinstance(label, list):
                label = label[0] if label else None
            if label is None or not isinstance(source, str):
                raise TrainingClientError(f"Channel '{channel.name}': every record needs a text and a label")
            tokens.append(source.split())
            labels.append(str(label))
    else:
        for number, line in enumerate(reader.text_lines(), start=1):
            words = line.split()
            label_words = [word for word in words if word.startswith(_LABEL_PREFIX)]
            if not label_words:
                raise TrainingClientError(
                    f"Channel '{channel.name}': line {number} has no {_LABEL_PREFIX}<class> label")
            labels.append(label_words[0][len(_LABEL_PREFIX):])
            tokens.append([word for word in words if not word.startswith(_LABEL_PREFIX)])
    if not labels:
        raise TrainingClientError(f"Channel '{channel.name}' has no records")
    return tokens, labels


class BlazingTextPredictor:
    """BlazingText's text-classification inference over a model ``BlazingText`` saved (module docstring)."""

    algorithm = "blazingtext"
    content_types = (serving.JSON, serving.JSONLINES)

    def __init__(self, model_dir: Path):
        description = serving.load_description(model_dir, self.algorithm)
        if description.get("mode") != "supervised":
            raise serving.InferenceNotEmulated(
                f"The model was trained in mode {description.get('mode')!r} (Word2Vec), not a text classifier: the "
                "local engine emulates BlazingText's text-classification inference only")
        saved = serving.load_estimator(model_dir)
        self._vocabulary = set(saved["vocabulary"])
        self._vectorizer, self._model = saved["vectorizer"], saved["model"]

    def invoke(self, body: bytes, content_type: str | None, accept: str | None) -> serving.Response:
        media = serving.MediaType.parse(content_type)
        if media is None or media.type not in self.content_types:
            raise serving.unsupported_content_type(content_type, self.algorithm, self.content_types)
        if media.type == serving.JSONLINES:
            requests = [self._jsonlines_record(line) for line in body.decode("utf-8", errors="replace").splitlines()
                        if line.strip()]
            answers = self._classify([text for text, _ in requests], [k for _, k in requests])
            return serving.Response(serving.json_lines(answers), serving.JSONLINES)
        document = _json(body)
        instances = document.get("instances") if isinstance(document, dict) else None
        if not isinstance(instances, list) or not all(isinstance(text, str) for text in instances):
            raise serving.InferenceError(400, 'application/json requests are {"instances": ["text", ...]}')
        k = _top_k((document.get("configuration") or {}).get("k", 1))
        answers = self._classify(instances, [k] * len(instances))
        return serving.Response(json.dumps(answers).encode("utf-8"), serving.JSON)

    @staticmethod
    def _jsonlines_record(line: str) -> tuple[str, int]:
        record = _json(line.encode("utf-8"))
        if not isinstance(record, dict) or not isinstance(record.get("source"), str):
            raise serving.InferenceError(400, 'application/jsonlines records are {"source": "text"} (optionally "k")')
        return record["source"], _top_k(record.get("k", 1))

    def _classify(self, texts: list[str], ks: list[int]) -> list[dict]:
        if not texts:
            raise serving.InferenceError(400, "the request has no records")
        features = self._vectorizer.transform([" ".join(token for token in text.split() if token in self._vocabulary)
                                               for text in texts])
        probabilities = self._model.predict_proba(features)
        classes = [str(label) for label in self._model.classes_]
        answers = []
        for row, k in zip(probabilities, ks):
            best = np.argsort(-row, kind="stable")[:k]
            answers.append({"prob": [float(row[index]) for index in best],
                            "label": [_LABEL_PREFIX + classes[index] for index in best]})
        return answers


def _json(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise serving.InferenceError(400, f"Unable to evaluate payload provided: not JSON ({error})") from None


def _top_k(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise serving.InferenceError(400, f"k must be a positive integer, not {value!r}")
    return value
