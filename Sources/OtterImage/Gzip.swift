import COtterZlib
import Foundation

/// gzip via zlib. zlib's own gzip header has mtime 0 and no file name, so the
/// same input always gives the same bytes (on the same zlib and OS byte): what
/// reproducible layer digests need.
public enum Gzip {
    public static func compress(_ input: Data, level: Int32 = Z_DEFAULT_COMPRESSION) throws -> Data {
        var stream = z_stream()
        guard otter_deflate_init_gzip(&stream, level) == Z_OK else {
            throw ImageError(.compression, "zlib deflateInit2 failed")
        }
        defer { deflateEnd(&stream) }
        var output = Data()
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var status: Int32 = Z_OK
        input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.bindMemory(to: UInt8.self).baseAddress
            stream.next_in = UnsafeMutablePointer(mutating: base)
            // zlib's avail_in is 32-bit: feed at most 1 GiB at a time.
            var remaining = raw.count
            repeat {
                let take = min(remaining, 1 << 30)
                stream.avail_in = uInt(take)
                remaining -= take
                let flush = remaining == 0 ? Z_FINISH : Z_NO_FLUSH
                repeat {
                    status = buffer.withUnsafeMutableBufferPointer { out in
                        stream.next_out = out.baseAddress
                        stream.avail_out = uInt(chunk)
                        return deflate(&stream, flush)
                    }
                    guard status != Z_STREAM_ERROR else { return }
                    output.append(contentsOf: buffer[0..<(chunk - Int(stream.avail_out))])
                } while stream.avail_out == 0
            } while remaining > 0
        }
        guard status == Z_STREAM_END else { throw ImageError(.compression, "zlib deflate failed (\(status))") }
        return output
    }

    /// For tests and for checking a pulled layer: the whole member, inflated.
    public static func decompress(_ input: Data) throws -> Data {
        var stream = z_stream()
        guard otter_inflate_init_gzip(&stream) == Z_OK else { throw ImageError(.compression, "zlib inflateInit2 failed") }
        defer { inflateEnd(&stream) }
        var output = Data()
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var status: Int32 = Z_OK
        input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: raw.bindMemory(to: UInt8.self).baseAddress)
            stream.avail_in = uInt(min(raw.count, Int(UInt32.max)))
            repeat {
                status = buffer.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunk)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                guard status == Z_OK || status == Z_STREAM_END else { return }
                output.append(contentsOf: buffer[0..<(chunk - Int(stream.avail_out))])
            } while status == Z_OK && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        guard status == Z_STREAM_END else { throw ImageError(.compression, "not a complete gzip stream (zlib \(status))") }
        return output
    }
}
