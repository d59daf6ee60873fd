"""The dataset scan: formats, labels, groups and the problems a user sees for a bad dataset."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smx_split.data_formats import data_format_for
from smx_split.dataset import DatasetScan, scan_dataset
from smx_split.label_codes import number_name
from smx_split.line_blocks import line_blocks
from smx_split.errors import InvalidInputError


def in_blocks(data: bytes, block_size: int | None = None) -> list[bytes]:
    size = block_size or max(1, len(data))
    return [data[start: start + size] for start in range(0, len(data), size)]


def scan(data: bytes, data_format: str, block_size: int | None = None, **options) -> DatasetScan:
    return scan_dataset(in_blocks(data, block_size), data_format, **options)


def problems_of(data: bytes, data_format: str, **options) -> list[str]:
    with pytest.raises(InvalidInputError) as raised:
        scan(data, data_format, **options)
    return raised.value.problems


def labels_per_line(result: DatasetScan) -> list[str]:
    return [result.label_names[code] for code in result.labels.tolist()]


def manifest(*objects: dict) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in objects)


# --- formats ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("data/train.csv", "csv"),
        ("data/train.CSV", "csv"),
        ("manifests/all.jsonl", "jsonl"),
        ("manifests/all.json", "jsonl"),
        ("manifests/output.manifest", "jsonl"),
        ("corpus/reviews.txt", "text"),
    ],
)
def test_given_no_explicit_format_when_reading_the_extension_then_it_names_the_format(key, expected):
    assert data_format_for(key, None) == expected


def test_given_an_explicit_format_then_it_wins_over_the_extension():
    assert data_format_for("data/train.csv", "text") == "text"


def test_given_an_unknown_extension_then_the_user_is_told_to_set_input_format():
    with pytest.raises(InvalidInputError) as raised:
        data_format_for("data/train.parquet", None)
    assert raised.value.problems == [
        "job_config.input_format: cannot tell the format of 'data/train.parquet' from its extension; "
        "set job_config.input_format to csv, jsonl or text"
    ]


# --- labels -----------------------------------------------------------------------------------


def test_given_a_manifest_then_each_line_is_labelled_by_its_class_and_equal_texts_are_one_label():
    data = manifest(
        {"source-ref": "s3://b/1.jpg", "class": "1"},
        {"source-ref": "s3://b/2.jpg", "class": 1},
        {"source-ref": "s3://b/3.jpg", "class": "cat"},
    )
    result = scan(data, "jsonl")
    assert labels_per_line(result) == ["1", "1", "cat"]
    assert result.num_classes == 2
    assert result.class_counts() == {"1": 2, "cat": 1}
    assert (result.num_lines, result.num_bytes) == (3, len(data))


def test_given_a_label_attribute_then_the_manifest_is_labelled_by_it():
    data = manifest({"source": "a", "label": "x"}, {"source": "b", "label": "y"})
    assert labels_per_line(scan(data, "jsonl", label_attribute="label")) == ["x", "y"]


def test_given_a_manifest_without_the_label_attribute_then_it_is_unlabelled():
    result = scan(manifest({"source-ref": "a"}, {"source-ref": "b"}), "jsonl")
    assert result.labels is None
    assert (result.num_classes, result.class_counts()) == (None, {})


def test_given_some_manifest_lines_without_a_label_then_the_first_of_them_are_named():
    data = manifest({"class": "a"}, {"other": 1}, {"class": "b"}, {"other": 2})
    assert problems_of(data, "jsonl") == [
        'line 2: has no "class" attribute (crossvalidation.label_attribute) although 2 other lines have one '
        """(starts with: '{"other": 1}'): give every line a "class" value, or remove it from every line """
        "to split without labels",
        'line 4: has no "class" attribute (crossvalidation.label_attribute) although 2 other lines have one '
        """(starts with: '{"other": 2}'): give every line a "class" value, or remove it from every line """
        "to split without labels",
    ]


def test_given_a_null_or_structured_label_then_the_line_is_reported():
    problems = problems_of(manifest({"class": "a"}, {"class": None}, {"class": ["a"]}), "jsonl")
    assert [problem.split(" (starts with")[0] for problem in problems] == [
        'line 2: has a "class" that is a JSON null (crossvalidation.label_attribute)',
        'line 3: has a "class" that is a JSON array (multi-label), which SMX-Validator does not split yet',
    ]


def test_given_csv_then_the_first_column_is_the_label_and_crlf_rows_parse():
    result = scan(b"1,0.5,0.25\r\n0,0.1,0.2\r\n1,0.3,0.9\r\n", "csv")
    assert labels_per_line(result) == ["1", "0", "1"]


def test_given_a_csv_header_then_the_user_is_told_to_remove_it():
    problems = problems_of(b"label,f1,f2\n1,0.5,0.25\n0,0.1,0.2\n", "csv")
    assert problems == [
        "line 1: looks like a header; a CSV dataset has no header (the split would take it for a sample) "
        "(starts with: 'label,f1,f2'): remove it (pandas writes one, and a first column of row numbers, unless told "
        "to_csv(path, header=False, index=False))"
    ]


def test_given_csv_rows_with_text_labels_then_the_first_row_is_data_not_a_header():
    assert labels_per_line(scan(b"cat,0.5\ndog,0.1\n", "csv")) == ["cat", "dog"]


def test_given_quoted_csv_fields_then_commas_inside_quotes_do_not_split_fields():
    result = scan(b'"a,b",1\n"c",2\n', "csv")
    assert labels_per_line(result) == ["a,b", "c"]


def test_given_text_then_the_first_label_prefix_stratifies():
    result = scan(b"__label__pos __label__new great movie\n__label__neg dull\n", "text")
    assert labels_per_line(result) == ["pos", "neg"]


def test_given_text_without_label_prefixes_then_it_is_unlabelled():
    assert scan(b"some words\nmore words\n", "text").labels is None


def test_given_text_with_some_unlabelled_lines_then_they_are_named():
    problems = problems_of(b"__label__a x\nno label here\n__label__b y\n", "text")
    assert problems == [
        "line 2: has no __label__ label although 2 other lines have one (starts with: 'no label here'): "
        "give every line its __label__<class>, or remove the labels from every line to split without them"
    ]


def test_given_an_empty_text_label_then_the_line_is_reported():
    assert problems_of(b"__label__a x\n__label__ y\n", "text")[0].startswith("line 2: has an empty __label__")


# --- groups -----------------------------------------------------------------------------------


def test_given_a_manifest_group_attribute_then_lines_of_one_group_share_a_code():
    data = manifest({"class": "a", "patient": "p1"}, {"class": "b", "patient": 7}, {"class": "a", "patient": "p1"})
    groups = scan(data, "jsonl", group_attribute="patient").groups.tolist()
    assert groups[0] == groups[2] != groups[1]


def test_given_a_csv_group_column_then_rows_of_one_group_share_a_code():
    groups = scan(b"1,g1,0.5\n0,g2,0.1\n1,g1,0.7\n", "csv", group_attribute=1).groups.tolist()
    assert groups[0] == groups[2] != groups[1]


def test_given_a_manifest_line_without_the_group_then_it_is_reported():
    data = manifest({"class": "a", "patient": "p1"}, {"class": "b"})
    assert problems_of(data, "jsonl", group_attribute="patient")[0].startswith(
        'line 2: has no "patient" attribute (crossvalidation.group_attribute)'
    )


@pytest.mark.parametrize(
    ("data_format", "data", "group_attribute", "expected"),
    [
        ("text", b"__label__a x\n", "anything", "text datasets have no fields to group by"),
        ("csv", b"1,2\n", 5, "column 5 does not exist; rows have 2 columns (0 to 1)"),
        ("csv", b"1,2\n", "patient", "a CSV dataset is grouped by a zero-based column number"),
        ("jsonl", b'{"a": 1}\n', 3, "a JSON Lines dataset is grouped by an attribute name"),
        ("csv", b"1,2\n", "1", "'1' is a string; a CSV dataset is grouped by a column number: write it without quotes, 1"),
    ],
)
def test_given_a_group_attribute_the_format_cannot_use_then_the_field_is_named(data_format, data, group_attribute, expected):
    (problem,) = problems_of(data, data_format, group_attribute=group_attribute)
    assert problem.startswith("crossvalidation.group_attribute: ")
    assert expected in problem


# --- lines and problems -----------------------------------------------------------------------


def test_given_a_final_newline_or_none_then_the_same_lines_are_read():
    with_newline, without = scan(b"1,2\n0,3\n", "csv"), scan(b"1,2\n0,3", "csv")
    assert with_newline.num_lines == without.num_lines == 2
    assert labels_per_line(with_newline) == labels_per_line(without)


def test_given_an_empty_line_in_the_middle_then_its_line_number_is_reported():
    for data_format, data in [
        ("jsonl", b'{"class": "a"}\n\n{"class": "b"}\n'),
        ("csv", b"1,2\n\r\n0,3\n"),
        ("text", b"__label__a x\n\n__label__b y\n"),
    ]:
        (problem,) = problems_of(data, data_format)
        assert problem.startswith("line 2: is empty (starts with: ")
        assert problem.endswith("remove empty lines: only one final newline may end the data")


def test_given_an_empty_dataset_then_the_input_path_is_named():
    assert problems_of(b"", "jsonl") == [
        "job_config.input_path: the dataset is empty (0 bytes); upload the data, one record per line, "
        "or point input_path at the object that holds it"
    ]
    assert problems_of(b"\n", "jsonl")[0].startswith("line 1: is empty")


def test_given_invalid_json_then_the_line_number_and_parser_message_are_reported():
    (problem,) = problems_of(b'{"class": "a"}\n{"class": "b",}\n', "jsonl")
    assert problem == (
        """line 2: is not valid JSON (Expecting property name enclosed in double quotes at column 15) """
        """(starts with: '{"class": "b",}'): write exactly one JSON object per line"""
    )


def test_given_json_that_is_not_an_object_then_its_type_is_named():
    (problem,) = problems_of(b'{"class": "a"}\n["a", "b"]\n', "jsonl")
    assert problem.startswith("line 2: is a JSON array, not an object")


def test_given_mixed_formats_then_the_odd_lines_are_reported_as_the_other_format():
    (csv_in_jsonl,) = problems_of(b'{"class": "a"}\n1,0.5,0.25\n', "jsonl")
    assert csv_in_jsonl.startswith("line 2: looks like a CSV row, not JSON")
    (json_in_csv,) = problems_of(b'1,0.5\n{"class": 1, "x": 2}\n', "csv")
    assert json_in_csv.startswith("line 2: looks like JSON, not a CSV row")


def test_given_a_row_with_the_wrong_field_count_then_both_counts_are_named():
    (problem,) = problems_of(b"1,0.5,0.25\n0,0.1\n", "csv")
    assert problem.startswith("line 2: has 2 fields but line 1 has 3")


@pytest.mark.parametrize(
    ("data_format", "data", "column"),
    [
        ("jsonl", b'{"class": "a"}\n{"class": "\xff"}\n', 12),
        ("csv", b"1,2\n0,\xff\n", 3),
        ("text", b"__label__a x\n__label__b \xff\xfe\n", 12),
    ],
)
def test_given_bytes_that_are_not_utf8_then_the_byte_and_column_are_named(data_format, data, column):
    (problem,) = problems_of(data, data_format)
    assert problem.startswith(f"line 2: is not UTF-8 text (byte 0xff at column {column})")
    assert problem.endswith("save the dataset as UTF-8")


def test_given_a_long_bad_line_then_only_its_first_40_characters_are_shown():
    secret = "x" * 40 + "SECRET-REST-OF-THE-LINE"
    (problem,) = problems_of(b'{"class": "a"}\n' + json.dumps([secret]).encode() + b"\n", "jsonl")
    assert "SECRET" not in problem
    assert f"(starts with: {json.dumps([secret])[:40]!r})" in problem


def test_given_many_bad_lines_then_twenty_are_listed_and_the_rest_counted():
    data = b"".join(b"not json\n" if number % 2 else b'{"class": "a"}\n' for number in range(100))
    problems = problems_of(data, "jsonl", block_size=64)
    assert len(problems) == 21
    assert problems[0].startswith("line 2: ") and problems[19].startswith("line 40: ")
    assert problems[20] == "... and 30 more lines with problems"


def test_given_lines_that_only_parse_when_joined_then_they_are_still_rejected():
    # Line 1 is cut inside an array of objects; line 2 closes it; line 3 holds two objects.
    # Joined with commas they form three valid objects, so line-exact checking must catch them.
    data = b'{"a": [{"b": 1}\n{"c": 2}]}\n{"x": 1}, {"y": 2}\n'
    problems = problems_of(data, "jsonl")
    assert [problem.split(":")[0] for problem in problems] == ["line 1", "line 2", "line 3"]


def test_given_a_valid_line_holding_an_array_of_objects_then_it_is_accepted():
    data = manifest({"class": "a", "boxes": [{"x": 1}, {"x": 2}]}, {"class": "b", "note": "}, {"})
    assert labels_per_line(scan(data, "jsonl")) == ["a", "b"]


# --- streaming --------------------------------------------------------------------------------

json_values = st.one_of(
    st.text(max_size=6),
    st.integers(-5, 5),
    st.sampled_from(["}, {", '"', "\\", "é", "\u2028"]),
    st.lists(st.dictionaries(st.sampled_from(["x", "y"]), st.integers(0, 3), max_size=2), max_size=2),
)
manifest_lines = st.lists(
    st.fixed_dictionaries({"source-ref": st.text(max_size=10), "class": st.sampled_from(["a", "b", 1, 2])},
                          optional={"extra": json_values}),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(lines=manifest_lines, block_size=st.integers(1, 200), separators=st.sampled_from([", ", ",", " , "]))
def test_given_any_manifest_and_block_size_then_labels_match_a_line_by_line_parse(lines, block_size, separators):
    data = b"".join(json.dumps(line, separators=(separators, ": ")).encode() + b"\n" for line in lines)
    result = scan(data, "jsonl", block_size=block_size)
    expected = [str(line["class"]) for line in lines]
    assert labels_per_line(result) == expected
    assert result.num_bytes == len(data)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.tuples(st.sampled_from(["0", "1", "x"]), st.sampled_from(["g1", "g2"]), st.floats(0, 1)), min_size=1, max_size=30),
    block_size=st.integers(1, 100),
    newline=st.sampled_from([b"\n", b"\r\n"]),
)
def test_given_any_csv_and_block_size_then_labels_and_groups_match_the_rows(rows, block_size, newline):
    data = b"".join(f"{label},{group},{value}".encode() + newline for label, group, value in rows)
    result = scan(data, "csv", block_size=block_size, group_attribute=1)
    assert labels_per_line(result) == [label for label, _, _ in rows]
    group_codes = result.groups.tolist()
    for (_, group_a, _), code_a in zip(rows, group_codes):
        for (_, group_b, _), code_b in zip(rows, group_codes):
            assert (group_a == group_b) == (code_a == code_b)


MANIFEST_SHAPES = [
    '{{"source-ref": "s3://b/img_{number:07d}.jpg", "class": {label}}}',
    '{{"source-ref": "s3://b/img_{number}.jpg", "class": {label}, "class-metadata": {{"confidence": 0.{number}, "ok": true}}}}',
    ' {{ "class" : {label} , "source-ref":"s3://b/{number}.jpg"}} \r',
    '{{"class": "first", "source-ref": "s3://b/{number}.jpg", "class": {label}}}',
    '{{"cl\\u0061ss": {label}, "n": {number}}}',
    '{{"source-ref": "s3://b/é{number}.jpg", "class": {label}}}',
    '{{"class": {label}, "width": {number}, "boxes": [{{"x": {number}}}, {{"x": 1}}]}}',
    '{{"class": {label}, "id": 0{number}}}',  # a number with a leading zero: invalid JSON
    '{{"source-ref": "s3://b/{number}.jpg"}}',
    '{{"class": {label}, "source-ref": "s3://b/{number}.jpg"',  # cut short: invalid JSON
]


def reference_scan(data: bytes) -> list[str] | None | type[InvalidInputError]:
    """Per-line json.loads: each line's label name, None when no line has one, or the error class."""
    try:
        objects = [json.loads(line) for line in data.split(b"\n")[:-1]]
    except ValueError:
        return InvalidInputError
    labels = [item.get("class") for item in objects]
    if all(label is None for label in labels):
        return None
    if any(label is None for label in labels):
        return InvalidInputError
    # A label that is a number, however it is written ("1e3", 1000.0), is named as that number.
    return [number_name(label if isinstance(label, str) else json.dumps(label)) for label in labels]


@settings(max_examples=60, deadline=None)
@given(
    shapes=st.lists(st.sampled_from(MANIFEST_SHAPES), min_size=1, max_size=2),
    numbers=st.one_of(  # many digit patterns, or few (so that few templates cover many lines)
        st.lists(st.integers(0, 10**6), min_size=64, max_size=400),
        st.lists(st.sampled_from([3, 7, 12, 45, 100, 999]), min_size=512, max_size=700),
    ),
    labels=st.lists(st.sampled_from(['"a"', '"b"', "3", "12", "-4", "0.5", '"7"', "1e3"]), min_size=1, max_size=3),
    block_size=st.sampled_from([None, 4096, 257]),
)
def test_given_manifests_whose_lines_differ_in_digits_then_labels_match_a_line_by_line_parse(shapes, numbers, labels, block_size):
    data = "".join(
        shapes[index % len(shapes)].format(number=number, label=labels[index % len(labels)]) + "\n"
        for index, number in enumerate(numbers)
    ).encode()
    expected = reference_scan(data)
    if expected is InvalidInputError:
        with pytest.raises(InvalidInputError):
            scan(data, "jsonl", block_size=block_size)
        return
    result = scan(data, "jsonl", block_size=block_size)
    assert (None if result.labels is None else labels_per_line(result)) == expected


def test_given_a_csv_row_with_an_empty_group_then_it_is_reported():
    (problem,) = problems_of(b"1,g1,0.5\n0,,0.1\n", "csv", group_attribute=1)
    assert problem.startswith("line 2: has an empty group (column 1, crossvalidation.group_attribute)")


def test_given_the_label_column_as_csv_group_then_it_is_refused_as_the_input_schema_says():
    # GIVEN column 0, the label: the schema's minimum is 1, and the scan holds to the same rule
    (problem,) = problems_of(b"a,1\nb,2\na,3\n", "csv", group_attribute=0)
    assert problem.startswith("crossvalidation.group_attribute: a CSV dataset is grouped by a zero-based column "
                              "number of at least 1 (column 0 is the label), not 0")


@pytest.mark.parametrize(("classes", "odd_line"), [
    ("012", b""),  # only digits differ: one template serves every line
    ("ab", b""),  # a letter differs: the label is not part of a shared template
    ("012", b'{"source-ref": "s3://b/img_00x1.jpg", "class": "1"}\n'),  # a letter where the others have digits
])
def test_given_equal_width_lines_then_each_line_keeps_its_own_label(classes, odd_line):
    # GIVEN manifest lines of one width, numbered and labelled
    data = b"".join(
        f'{{"source-ref": "s3://b/img_{index:04d}.jpg", "class": "{classes[index % len(classes)]}"}}\n'.encode()
        for index in range(50)
    ) + odd_line
    # WHEN they are scanned in one block
    result = scan(data, "jsonl")
    # THEN every label is the line's own, as a line-by-line parse gives it
    assert labels_per_line(result) == [json.loads(line)["class"] for line in data.splitlines()]
    assert result.line_bytes.tolist() == [len(line) for line in data.splitlines(keepends=True)]


def test_given_an_equal_width_line_with_a_quote_where_the_others_have_digits_then_that_line_is_reported():
    # GIVEN 50 valid manifest lines of one width, then one as wide whose number holds a quote
    data = b"".join(f'{{"source-ref": "s3://b/img_{index:04d}.jpg", "class": "a"}}\n'.encode() for index in range(50))
    data += b'{"source-ref": "s3://b/img_00"1.jpg", "class": "a"}\n'
    # WHEN it is scanned THEN the bad line is named by its number
    assert problems_of(data, "jsonl")[0].startswith("line 51:")


@pytest.mark.parametrize("max_bytes", [1, 7, 64, 1 << 20])
@pytest.mark.parametrize("source_block", [3, 50, 4096])
def test_given_any_block_sizes_then_line_blocks_hold_whole_lines_within_the_bound(max_bytes, source_block):
    # GIVEN lines of 1 to 40 bytes, one of 300 bytes, and no final newline
    data = b"\n".join(b"x" * (index % 40) for index in range(200)) + b"\n" + b"y" * 300 + b"\nlast"
    # WHEN they are regrouped into blocks of at most max_bytes
    blocks = list(line_blocks(in_blocks(data, source_block), max_bytes))
    # THEN the blocks are the data (with a final newline), each ends a line, and only a block of one line is larger
    assert b"".join(blocks) == data + b"\n"
    assert all(block.endswith(b"\n") for block in blocks)
    assert all(len(block) <= max_bytes or block.count(b"\n") == 1 for block in blocks)


@pytest.mark.parametrize("data, data_format, ones", [
    (b"1,0.5\n1.0,0.4\n 0,0.3\n0,0.2\n+1,0.1\n", "csv", ("+1", "1", "1.0")),
    # (JSON 1 and 1.0 are one value to Python already: only "1e0" is a second spelling)
    (b'{"class": 1}\n{"class": 1.0}\n{"class": " 0"}\n{"class": "0"}\n{"class": "1e0"}\n', "jsonl", ("1", "1e0")),
], ids=["csv", "jsonl"])
def test_given_one_class_written_several_ways_then_it_is_one_class_and_the_spellings_are_reported(data, data_format, ones):
    # GIVEN labels 1 / 1.0 / +1 / 1e0 and 0 / " 0"
    result = scan(data, data_format)
    # THEN they are two classes, named as numbers, and the merged spellings are kept for the user
    assert result.label_names == ("0", "1") and result.num_classes == 2
    assert labels_per_line(result) == ["1", "1", "0", "0", "1"]
    assert dict(result.label_spellings) == {"0": (" 0", "0"), "1": ones}


def test_given_group_values_that_are_numbers_then_they_stay_as_written():
    # "007" and "7" are two patients, not one number
    result = scan(b"0,007\n1,7\n0,007\n1,7\n", "csv", group_attribute=1)
    assert len(set(result.groups.tolist())) == 2
