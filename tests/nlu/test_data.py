"""The training data: Rasa 3.x NLU YAML, every contract intent, valid entity markup."""

from __future__ import annotations

from collections import Counter

import yaml

from nlu.data import data_files, load_training_data, parse_example
from nlu.entities import SERVICE_TYPES
from tests.nlu.test_engine import CONTRACT_INTENTS

ENTITIES = {
    "date",
    "time",
    "hospital",
    "department",
    "service_type",
    "activity",
    "beneficiary",
    "phone",
}
MINIMUM = {"sos": 500, "medical_escort": 300, "eldercare_booking": 300, "out_of_scope": 300}


def test_files_are_rasa_nlu_yaml() -> None:
    files = data_files()
    assert len(files) >= 5
    for path in files:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert document["version"] == "3.1", path
        for item in document["nlu"]:
            kinds = {"intent", "synonym", "lookup", "regex"} & set(item)
            assert len(kinds) == 1, (path, item)
            assert isinstance(item["examples"], str), (path, item)


def test_every_contract_intent_is_trained_richly() -> None:
    counts = Counter(e.intent for e in load_training_data().examples)
    assert set(counts) == CONTRACT_INTENTS
    assert sum(counts.values()) >= 3000
    for intent in CONTRACT_INTENTS:
        assert counts[intent] >= MINIMUM.get(intent, 80), intent


def test_no_duplicate_examples() -> None:
    texts = Counter(e.text for e in load_training_data().examples)
    assert [t for t, n in texts.items() if n > 1] == []


def test_entity_markup_is_valid() -> None:
    for example in load_training_data().examples:
        for entity in example.entities:
            assert entity.entity in ENTITIES, example
            assert example.text[entity.start : entity.end] == entity.text, example
            if entity.entity == "service_type":
                assert entity.value in SERVICE_TYPES, example
        assert "[" not in example.text, example
        assert "](" not in example.text, example


def test_markup_forms() -> None:
    line = '去[市一院](hospital)看[眼科](department:眼科)，[老伴]{"entity": "beneficiary", "value": "spouse"}陪'  # noqa: E501
    example = parse_example(line, "x")
    assert example.text == "去市一院看眼科，老伴陪"
    assert [(e.entity, e.value, e.start, e.end) for e in example.entities] == [
        ("hospital", "市一院", 1, 4),
        ("department", "眼科", 5, 7),
        ("beneficiary", "spouse", 8, 10),
    ]


def test_rasa_jieba_dictionary_is_in_step_with_the_data() -> None:
    """Rasa's JiebaTokenizer reads nlu/rasa/jieba; `yinling nlu train` rewrites it."""
    from nlu.cli import RASA_DICTIONARY, rasa_dictionary

    assert RASA_DICTIONARY.read_text(encoding="utf-8") == rasa_dictionary()
    words = {line.split()[0] for line in rasa_dictionary().splitlines()}
    assert {"省人民医院", "心内科"} <= words
