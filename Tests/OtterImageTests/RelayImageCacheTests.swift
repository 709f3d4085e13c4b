import Foundation
import Testing
@testable import OtterImage

/// The cache `otter deploy` keeps built relay images in.
@Suite struct RelayImageCacheTests {
    @Test func theSameInputsComeFromTheCacheWithTheSameDigestsAndAChangedBinaryBuildsAnew() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = RelayImageCache(directory: dir.appendingPathComponent("cache"))
        let builder = RelayImageBuilder(binary: URL(fileURLWithPath: "/bin/ls"), relayBinary: standInRelay)
        let first = try cache.image(for: builder)
        #expect(!first.cached)
        #expect(first.image.manifestDigest == (try builder.build()).manifestDigest)
        let second = try cache.image(for: builder)
        #expect(second.cached)
        #expect(second.image.manifestDigest == first.image.manifestDigest)
        #expect(try second.image.layers[0].bytes() == (try first.image.layers[0].bytes()))
        #expect(second.image.config == first.image.config)

        // Another binary: another key, built.
        let other = dir.appendingPathComponent("ls2")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: "/bin/ls"))
        bytes[bytes.count - 1] ^= 0xff
        try bytes.write(to: other)
        let third = try cache.image(for: RelayImageBuilder(binary: other, relayBinary: standInRelay))
        // (Its image may still equal the first: the changed byte is in the tail strip drops.)
        #expect(!third.cached)
        #expect(try cache.key(RelayImageBuilder(binary: other, relayBinary: standInRelay)) != (try cache.key(builder)))
    }

    @Test func aCorruptedCachedLayerIsRebuiltNotUsed() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = RelayImageCache(directory: dir)
        let builder = RelayImageBuilder(binary: URL(fileURLWithPath: "/bin/ls"), relayBinary: standInRelay)
        let first = try cache.image(for: builder)
        let layer = dir.appendingPathComponent(try cache.key(builder)).appendingPathComponent("blobs/sha256/\(first.image.layers[0].hex)")
        try Data("not the layer".utf8).write(to: layer)
        let again = try cache.image(for: builder)
        #expect(!again.cached)
        #expect(try again.image.layers[0].bytes() == (try first.image.layers[0].bytes()))
    }
}
