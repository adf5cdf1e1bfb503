/// arun's version, written only here: `arun --version` prints it and `scripts/wheel`
/// names the wheel after what the built binary prints, so the two cannot disagree.
enum ArunVersion {
    static let current = "0.1.0"
}
