import Testing
@testable import OtterRelay

/// The text helpers that replace Foundation's CharacterSet and String(format:) in the relay
/// (it imports FoundationEssentials only): config values and nonces depend on them.
@Suite struct PlainTextTests {
    @Test func trimsSpacesAndTabsButNotInnerText() {
        #expect("  \t realm = otter.test \t".trimmingWhitespace() == "realm = otter.test")
        #expect("3478".trimmingWhitespace() == "3478")
        #expect(" \t ".trimmingWhitespace() == "")
        #expect("".trimmingWhitespace() == "")
        #expect("value\r\n".trimmingWhitespace() == "value\r\n")
        #expect(" value\r\n".trimmingWhitespace(andNewlines: true) == "value")
        #expect("\n\n".trimmingWhitespace(andNewlines: true) == "")
    }

    /// CRLF line ends included (a turnserver.conf edited on Windows): they used to run lines together.
    @Test func configFileValuesAroundEqualsAndCommentsStillParse() throws {
        let file = "  listening-port = 3479  # a comment\r\n\trealm=otter.test\t\n\n  # only a comment\nuse-auth-secret\n static-auth-secret = s3cret \n"
        let c = try RelayConfiguration.parse(arguments: ["-c", "/turn.conf", "--no-tls"], readFile: { _ in file })
        #expect(c.listeningPort == 3479)
        #expect(c.realm == "otter.test")
        #expect(c.staticAuthSecrets == ["s3cret"])
    }

    @Test func hexIsTwoLowerCaseDigitsPerByte() {
        #expect(PlainText.hex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(PlainText.hex([UInt8]()) == "")
    }
}
