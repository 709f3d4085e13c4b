import Testing
@testable import OtterStacks

@Suite struct JSONTests {
    @Test func sortsKeysAndEscapes() {
        let value: JSON = ["b": 1, "a": ["x\"\n\u{01}", true, .null], "B": [:]]
        #expect(value.rendered() == """
            {
              "B": {},
              "a": [
                "x\\"\\n\\u0001",
                true,
                null
              ],
              "b": 1
            }

            """)
    }
}
