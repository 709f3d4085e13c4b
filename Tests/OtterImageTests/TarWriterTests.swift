import Testing
@testable import OtterImage
