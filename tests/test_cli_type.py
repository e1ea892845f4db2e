"""`hls-sim type`: the fixed-point calculator."""

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
