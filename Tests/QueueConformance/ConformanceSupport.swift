import Foundation

/// The time a store under test sees: it moves only when a check advances it.
public final class ConformanceClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Double

    public init(_ start: Double = 1_700_000_000) { value = start }

    public var now: Double { lock.withLock { value } }

    public func advance(_ seconds: Double) { lock.withLock { value += seconds } }
}

/// A conformance check that did not hold, with where and why.
public struct ConformanceFailure: Error, CustomStringConvertible {
    public var message: String
    public var file: String
    public var line: Int

    public var description: String { "\(file):\(line): \(message)" }
}

func check(_ condition: Bool, _ message: @autoclosure () -> String = "expectation failed",
           file: String = #fileID, line: Int = #line) throws {
    if !condition { throw ConformanceFailure(message: message(), file: file, line: line) }
}

func unwrap<T>(_ value: T?, _ message: @autoclosure () -> String = "unexpected nil",
               file: String = #fileID, line: Int = #line) throws -> T {
    guard let value else { throw ConformanceFailure(message: message(), file: file, line: line) }
    return value
}
