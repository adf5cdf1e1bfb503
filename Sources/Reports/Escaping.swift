import Foundation

/// Escaping for every output format. Everything a test controls (node ids, messages,
/// tracebacks, captured output) goes through one of these before it is written.
public enum Escape {
    /// Text for XML 1.0 element content: `& < >` escaped, characters XML 1.0 forbids
    /// (C0 controls other than tab, newline and carriage return, U+FFFE, U+FFFF) written
    /// as the visible text `\xNN` / `\uNNNN`, ANSI colour sequences dropped.
    public static func xml(_ text: String) -> String {
        markup(text, plain: xmlBytes) { scalar in
            switch scalar {
            case "&": "&amp;"
            case "<": "&lt;"
            case ">": "&gt;"
            default: nil
            }
        }
    }

    /// Text for a double-quoted XML attribute: also `"` and whitespace other than
    /// spaces as character references, so parsers do not normalise them away.
    public static func xmlAttribute(_ text: String) -> String {
        markup(text, plain: attributeBytes) { scalar in
            switch scalar {
            case "&": "&amp;"
            case "<": "&lt;"
            case ">": "&gt;"
            case "\"": "&quot;"
            case "\n": "&#10;"
            case "\r": "&#13;"
            case "\t": "&#9;"
            default: nil
            }
        }
    }

    /// Text for HTML element content or a quoted attribute value.
    public static func html(_ text: String) -> String {
        markup(text, plain: htmlBytes) { scalar in
            switch scalar {
            case "&": "&amp;"
            case "<": "&lt;"
            case ">": "&gt;"
            case "\"": "&quot;"
            case "'": "&#39;"
            default: nil
            }
        }
    }

    /// The shared loop of the markup escapes: `replacement` for the characters it names,
    /// XML-forbidden characters made visible, ANSI colours dropped. Plain text is returned as is.
    private static func markup(_ text: String, plain: [Bool], replacement: (Unicode.Scalar) -> String?) -> String {
        if isPlain(text, plain) { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in withoutANSI(text).unicodeScalars {
            if let replaced = replacement(scalar) {
                out += replaced
            } else {
                appendXMLAllowed(scalar, to: &out)
            }
        }
        return out
    }

    /// Text for one cell of a GitHub-flavoured Markdown table: HTML-escaped (GitHub
    /// renders inline HTML), pipes and Markdown punctuation backslash-escaped, one line.
    public static func markdown(_ text: String) -> String {
        var out = ""
        for scalar in withoutANSI(text).unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\n", "\r", "\t": out += " "
            case "|", "\\", "`", "*", "_", "[", "]", "#", "~", "!": out += "\\" + String(scalar)
            default: appendXMLAllowed(scalar, to: &out)
            }
        }
        return out
    }

    /// A node id as Markdown inline code: literal text, pipes still escaped (GFM tables
    /// split on them even inside code spans).
    public static func markdownCode(_ text: String) -> String {
        let flat = terminal(text).replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "|", with: "\\|")
        let fence = flat.contains("`") ? "``" : "`"
        return fence + (flat.hasPrefix("`") || flat.hasSuffix("`") ? " \(flat) " : flat) + fence
    }

    /// Text for a terminal: C0 controls other than tab and newline (and DEL) become
    /// `\xNN`, so a test cannot move the cursor or retitle the window; colours dropped.
    public static func terminal(_ text: String) -> String {
        if isPlain(text, terminalBytes) { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in withoutANSI(text).unicodeScalars {
            switch scalar.value {
            case 0x09, 0x0A: out.unicodeScalars.append(scalar)
            case 0x0D: break
            case 0..<0x20, 0x7F, 0x80..<0xA0: out += String(format: "\\x%02X", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A JSON string literal, quotes included (RFC 8259).
    public static func json(_ text: String) -> String {
        if isPlain(text, jsonBytes) {
            return "\"" + text + "\""
        }
        // Byte by byte over UTF-8 (tracebacks and captured output are long and full of
        // newlines: going scalar by scalar cost most of a large JSON report's time).
        let utf8 = Array(text.utf8)
        return utf8.withUnsafeBufferPointer { bytes in
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + bytes.count / 16 + 2)
            out.append(0x22)
            let hex = Array("0123456789abcdef".utf8)
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
                case 0..<0x20:
                    out += Array("\\u00".utf8)
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0xF)])
                case 0xE2 where index + 2 < bytes.count && bytes[index + 1] == 0x80
                    && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9):
                    // U+2028 and U+2029: valid JSON, but line ends to JavaScript.
                    out += Array((bytes[index + 2] == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                    index += 2
                default: out.append(byte)
                }
                index += 1
            }
            out.append(0x22)
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Text as the HTML report shows it: ANSI colours dropped, control characters XML
    /// forbids made visible (`\x01`), as `html` does, but no entities.
    public static func visible(_ text: String) -> String {
        markup(text, plain: visibleBytes) { _ in nil }
    }

    /// A JSON string literal safe inside an HTML `<script>` block, of `visible` text: every
    /// `<` written as `\u003c`, so no text can close the block (`</script>`) or open a
    /// comment (`<!--`); nothing else in a script's raw text is special.
    public static func jsonInScript(_ text: String) -> String {
        // Most strings (node ids) need nothing: one scan instead of three.
        if isPlain(text, scriptJSONBytes) { return "\"" + text + "\"" }
        let literal = json(visible(text))
        guard literal.utf8.contains(UInt8(ascii: "<")) else { return literal }
        return literal.replacingOccurrences(of: "<", with: "\\u003c")
    }

    /// A JSON number: microsecond precision, `null` for NaN and infinities.
    public static func jsonNumber(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        let rounded = (value * 1_000_000).rounded() / 1_000_000
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
        return "\(rounded)"
    }

    // MARK: - Helpers

    /// A 256-entry table of the bytes that send a string down the slow path: C0 controls
    /// other than tab, newline and carriage return, 0xEF (may start U+FFFE/U+FFFF), and `special`.
    static func table(_ special: [UInt8]) -> [Bool] {
        var table = [Bool](repeating: false, count: 256)
        for byte in 0..<0x20 where byte != 0x09 && byte != 0x0A && byte != 0x0D { table[byte] = true }
        table[0xEF] = true
        for byte in special { table[Int(byte)] = true }
        return table
    }

    static let xmlBytes = table(Array("&<>".utf8))
    static let attributeBytes = table(Array("&<>\"".utf8) + [0x09, 0x0A, 0x0D])
    static let htmlBytes = table(Array("&<>\"'".utf8))
    static let visibleBytes = table([])
    static let scriptJSONBytes = table(Array("\"\\<".utf8) + [0x09, 0x0A, 0x0D, 0xE2])
    static let terminalBytes = table([0x0D, 0x7F, 0xC2])
    static let jsonBytes = table(Array("\"\\".utf8) + [0x09, 0x0A, 0x0D, 0xE2])

    /// True when `text` has no byte `table` flags: the common case, returned unchanged
    /// without walking its characters.
    static func isPlain(_ text: String, _ table: [Bool]) -> Bool {
        table.withUnsafeBufferPointer { flags in
            if let plain = text.utf8.withContiguousStorageIfAvailable({ bytes in
                !bytes.contains { flags[Int($0)] }
            }) {
                return plain
            }
            return !text.utf8.contains { flags[Int($0)] }
        }
    }

    static func appendXMLAllowed(_ scalar: Unicode.Scalar, to out: inout String) {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: out.unicodeScalars.append(scalar)
        case 0..<0x20: out += String(format: "\\x%02X", scalar.value)
        case 0xFFFE, 0xFFFF: out += String(format: "\\u%04X", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }

    /// Drops ANSI CSI sequences (`ESC [ … final byte`), the colours pytest and many
    /// libraries write; a lone ESC is left for the caller to neutralise.
    static func withoutANSI(_ text: String) -> String {
        guard text.utf8.contains(0x1B) else { return text }
        var out = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = scalars.next()
        while let scalar = pending {
            pending = scalars.next()
            guard scalar == "\u{1B}", pending == "[" else {
                out.append(scalar)
                continue
            }
            // Parameters and intermediates (0x20–0x3F), then one final byte (0x40–0x7E).
            pending = scalars.next()
            while let next = pending, (0x20...0x3F).contains(next.value) { pending = scalars.next() }
            if let final = pending, (0x40...0x7E).contains(final.value) { pending = scalars.next() }
        }
        return String(out)
    }
}

extension String {
    /// At most `limit` characters, with an ellipsis when cut.
    func clipped(_ limit: Int) -> String {
        count <= limit ? self : String(prefix(limit)) + "…"
    }
}
