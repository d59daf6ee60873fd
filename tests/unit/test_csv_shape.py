"""What a CSV's first rows say about its separator and its header, and what they must not be taken for."""

from __future__ import annotations

import pytest

from smx_split.csv_shape import header_kind, wrong_delimiter


@pytest.mark.parametrize("rows, shown", [
    (["5.1;3.5;setosa", "4.9;3.0;setosa"], "';' (semicolons)"),
    (["0;5,1;3,5", "1;4,9;3,0"], "';' (semicolons)"),
    (["0\t1.5\t2", "1\t2.5\t3"], "tabs"),
    (["0|1.5|2", "1|2.5|3"], "'|' (pipes)"),
])
def test_rows_separated_by_another_character_are_named(rows, shown):
    problem = wrong_delimiter(rows)
    assert problem.startswith(f"job_config.input_path: the fields are separated by {shown}, not commas")


@pytest.mark.parametrize("rows", [
    ["0,1.5,2", "1,2.5,3"],                        # comma-separated
    ["0,a;b,2", "1,c,3"],                          # a text field holding a semicolon on some rows
    ['0,"x;y",2', '1,"z;w",3'],                    # semicolons inside quoted fields of a comma-separated file
    ["0", "1", "2"],                               # one column
    ["0;1", "1;2;3"],                              # no steady count: not a separator
    [],
])
def test_comma_separated_rows_and_single_columns_are_not_taken_for_another_separator(rows):
    assert wrong_delimiter(rows) is None


@pytest.mark.parametrize("rows, kind", [
    ([["label", "height", "weight"], ["0", "1.5", "2"]], "named"),
    ([["target", "2019", "2020", "2021"], ["0", "1.5", "2", "3"], ["1", "2.5", "3", "4"]], "named"),
    ([["0", "1", "2", "3", "4"], ["1", "0.5", "0.3", "2", "1"]], "numbered"),
    ([["label", "1", "2", "3", "4"], ["1", "0.5", "0.3", "2", "1"]], "numbered"),
    ([["", "0", "1", "2", "3"], ["0", "1", "0.5", "0.3", "2"]], "numbered"),  # pandas' index column too
    ([[str(index) for index in range(10)], [str(index % 3) for index in range(10)]], "numbered"),  # wide, integers
    ([["0", "1", "2"], ["1", "5.5", "3"]], "numbered"),  # short, but the data below is not all integers
    ([["0", "1", "2"], ["1", "5", "3"]], None),          # short all-integer rows may be data
    ([["1", "2", "3", "4", "5", "6"], ["0", "3", "1", "4", "4", "2"]], None),  # 6 integer columns: may be data
    ([["1", "2", "3"], ["0.5", "1.5", "2.5"]], None),      # a regression sample: pandas numbers from 0, not 1
    ([[str(index) for index in range(1, 11)], [str(index % 3) for index in range(10)]], None),
    ([["1", "2", "3", "4", "5"], ["1", "2", "3", "4", "5"]], None),  # line 2 is numbered too: data
    ([["3", "1", "2", "0", "4"], ["1", "0.5", "0.3", "2", "1"]], None),  # not in column order
    ([["0", "1.5", "2"], ["1", "2.5", "3"]], None),
    ([["cat", "1.5"], ["dog", "2.5"]], None),             # text labels: data
    ([["cat", "dog"]], None),
])
def test_a_header_is_told_from_a_data_row(rows, kind):
    assert header_kind(rows) == kind
