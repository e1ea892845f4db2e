"""`hls-sim type`: the fixed-point calculator."""

import warnings

import pytest
from click.testing import CliRunner

from hls_sim.cli import main


def test_type_prints_value_raw_bits_and_what_happened():
    res = CliRunner().invoke(main, ["type", "ap_fixed<8,3,AP_RND,AP_SAT>", "1.37", "-5", "0.0625", "3.99"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("ap_fixed<8,3,AP_RND,AP_SAT>: 8 bits, 3 integer, 5 fraction, signed")
    assert lines[2].split() == ["1.37", "1.375", "44", "00101100", "rounded"]
    assert lines[3].split() == ["-5", "-4.0", "-128", "10000000", "saturated"]
    assert lines[4].split() == ["0.0625", "0.0625", "2", "00000010", "exact"]
    assert lines[5].split() == ["3.99", "3.96875", "127", "01111111", "rounded,", "saturated"]


def test_type_integer_wraps_and_headers_quirk():
    res = CliRunner().invoke(main, ["type", "ap_int<4>", "9", "-0.3"])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[2].split() == ["9", "-7.0", "-7", "1001", "wrapped"]
    assert res.output.splitlines()[3].split()[:3] == ["-0.3", "1.0", "1"]  # as the headers compute


def test_type_errors_are_one_line():
    for args, words in ((["ap_fixed<8,3,AP_FOO>", "1"], "unknown quantization mode 'AP_FOO'"),
                        (["ap_int<4>", "abc"], "value 'abc': not a number"),
                        (["ap_int<4>", "nan"], "NaN and infinities"),
                        (["ap_fixed<0,1>", "1"], "width must be 1..1024")):
        res = CliRunner().invoke(main, ["type", *args])
        assert res.exit_code == 2
        err = res.output.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("hls-sim: error: ") and words in err[0], res.output
        assert "Traceback" not in res.output


@pytest.mark.parametrize("spelling,values,lines", [
    # values beyond a float64 are printed exactly, to 17 digits (item 5: was an OverflowError)
    ("ap_fixed<8,2000>", ["1", "-1"],
     ["ap_fixed<8,2000>: 8 bits, 2000 integer, -1992 fraction, signed; range "
      "[-5.7406534763712726e+601, 5.6958046210871221e+601], lsb 4.4848855284150567e+599",
      None, "1      0.0                       0    00000000  rounded",
      "-1     -4.4848855284150567e+599  -1   11111111  rounded"]),
    # wraps to a value beyond a float64 (item 10: was a RuntimeWarning from numpy)
    ("ap_ufixed<8,1025>", ["-1"],
     ["ap_ufixed<8,1025>: 8 bits, 1025 integer, -1017 fraction, unsigned; range [0.0, "
      "3.58134179210852e+308], lsb 1.4044477616111843e+306",
      None, "-1     3.58134179210852e+308  255  11111111  rounded, wrapped"]),
    ("ap_fixed<64,900>", ["1"], [None, None, "1      0.0    0    " + "0" * 64 + "  rounded"]),
    # values below a float64 (was an OverflowError converting the range)
    ("ap_ufixed<1024,-4096>", ["1"],
     ["ap_ufixed<1024,-4096>: 1024 bits, -4096 integer, 5120 fraction, unsigned; range [0.0, "
      "9.5749774609521854e-1234], lsb 5.3262580110400913e-1542"]),
    ("ap_uint<1024>", ["3"], ["ap_uint<1024>: 1024 bits, 1024 integer, 0 fraction, unsigned; range [0.0, "
                              "1.7976931348623159e+308], lsb 1.0"]),  # 2**1024 - 1
])
def test_type_with_huge_integer_or_fraction_bits(spelling, values, lines):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning would fail the command
        res = CliRunner().invoke(main, ["type", spelling, *values])
    assert res.exit_code == 0, (res.output, res.exception)
    assert res.stderr == ""
    got = res.output.splitlines()
    for want, line in zip(lines, got):
        if want is not None:
            assert line.rstrip() == want
