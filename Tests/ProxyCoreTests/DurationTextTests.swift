import NIOCore
import ProxyCore
import Testing

/// Durations as written in configuration files.
@Suite struct DurationTextTests {
    @Test(arguments: [
        ("30s", TimeAmount.seconds(30)),
        ("15m", .minutes(15)),
        ("12h", .hours(12)),
        ("500ms", .milliseconds(500)),
        ("0", .zero),
        ("0s", .zero),
        (" 15s ", .seconds(15)),
        ("999999s", .seconds(999_999)),
        ("1m", .seconds(60)),
    ])
    func parses(text: String, expected: TimeAmount) {
        #expect(DurationText.parse(text) == expected)
    }

    @Test(arguments: [
        "", " ", "30", "s", "ms", "-5s", "1.5s", "30 s", "30sec", "30S", "1d", "5sms", "1000000s", "abc", "15m30s", "0x10s",
    ])
    func rejects(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test func millisecondsAreNotMinutes() {
        #expect(DurationText.parse("10ms") == .milliseconds(10))
        #expect(DurationText.parse("10m") == .minutes(10))
    }
}

@Suite struct DurationTextFormatTests {
    @Test(arguments: [
        (TimeAmount.seconds(60), "1m"), (.seconds(90), "90s"), (.milliseconds(1500), "1500ms"), (.hours(2), "2h"), (.zero, "0"),
    ])
    func format(amount: TimeAmount, text: String) {
        #expect(DurationText.format(amount) == text)
        #expect(DurationText.parse(text) == amount)
    }
}
