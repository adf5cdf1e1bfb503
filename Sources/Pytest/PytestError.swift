import Foundation

/// Problems with the Python side, each naming the fix.
public enum PytestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The interpreter could not be started.
    case pythonMissing(String)
    /// The interpreter runs but cannot import pytest.
    case pytestMissing(python: String)

    public var description: String {
        switch self {
        case let .pythonMissing(python):
            "cannot run the Python interpreter '\(python)': install Python 3, or choose one with --python PATH or ARUN_PYTHON"
        case let .pytestMissing(python):
            "pytest is not installed for \(python): run '\(python) -m pip install pytest', or choose another interpreter with --python"
        }
    }

    /// Missing tools are usage errors (4).
    public var exitCode: Int32 { 4 }
}
