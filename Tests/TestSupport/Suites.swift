import Foundation

/// Generated pytest suites for the tests: real files in a temporary folder.
public enum Suites {
    /// Every ordinary outcome kind pytest knows, in one folder (no crashes, so a serial
    /// pytest can run it too).
    public static func outcomes(in folder: TemporaryFolder) throws {
        try folder.write("pytest.ini", "[pytest]\nmarkers =\n    slow: slow\n")
        try folder.write("tests/conftest.py", """
            import pytest

            @pytest.fixture
            def broken():
                raise RuntimeError("fixture exploded")

            @pytest.fixture
            def bad_teardown():
                yield 1
                raise RuntimeError("teardown exploded")
            """)
        try folder.write("tests/test_outcomes.py", """
            import pytest

            def test_pass():
                assert 1 + 1 == 2

            def test_fail():
                assert 1 == 2, "one is not two"

            def test_fixture_error(broken):
                pass

            def test_teardown_error(bad_teardown):
                assert bad_teardown == 1

            @pytest.mark.skip(reason="not today")
            def test_skip():
                pass

            @pytest.mark.xfail(reason="known")
            def test_xfail():
                assert False

            @pytest.mark.xfail(reason="fixed meanwhile")
            def test_xpass():
                assert True

            @pytest.mark.parametrize("n", range(5))
            def test_param(n):
                assert n < 4

            def test_subtests(subtests):
                for i in range(4):
                    with subtests.test(msg="case", i=i):
                        assert i != 2
            """)
        try folder.write("tests/test_more.py", """
            import sys

            def test_prints():
                print("hello from stdout")
                print("and stderr", file=sys.stderr)

            class TestGroup:
                def test_a(self):
                    assert True

                def test_b(self):
                    assert "<script>alert(1)</script>" == "safe"
            """)
    }

    /// `files` files of `perFile` trivial passing tests, spread over `folders` folders.
    public static func trivial(in folder: TemporaryFolder, files: Int, perFile: Int, folders: Int = 1,
                               sleep: Double = 0) throws {
        for file in 0..<files {
            let body = sleep > 0 ? "    time.sleep(\(sleep))\n" : "    pass\n"
            var text = "import time\n\n"
            for test in 0..<perFile { text += "def test_\(test)():\n\(body)\n" }
            try folder.write("tests/pkg\(file % folders)/test_f\(file).py", text)
        }
    }
}
