import NIOCore

/// The outcome of a successful long-term credential check.
struct AuthResult {
    var username: String
    var key: [UInt8]
    /// Answer with MESSAGE-INTEGRITY-SHA256 because the client used it.
    var sha256: Bool
}

extension RelayEngine {
    func stunFromClient(_ bytes: ByteBuffer, key: ClientKey, link: ClientLink) {
        let msg: STUNMessage
        do {
            msg = try STUNMessage(parsing: bytes)
        } catch {
            // RFC 8489 §6.3: malformed messages are discarded silently.
            metrics.malformed += 1
            return
        }
        switch msg.messageClass {
        case .request:
            handleRequest(msg, key: key, link: link)
        case .indication:
            if msg.method == STUNMethod.send.rawValue { sendIndication(msg, key: key) }
        case .successResponse, .errorResponse:
            break
        }
    }

    func handleRequest(_ msg: STUNMessage, key: ClientKey, link: ClientLink) {
        let unknown = msg.unknownRequiredAttributes(known: Self.knownAttributes)
        if !unknown.isEmpty {
            respond(msg, link: link, cls: .errorResponse, auth: nil) { b in
                b.appendErrorCode(.unknownAttribute)
                b.appendUnknownAttributes(unknown)
            }
            return
        }
        guard let method = msg.knownMethod else {
            error(msg, link: link, .badRequest, "Unknown method", auth: nil)
            return
        }
        switch method {
        case .binding:
            binding(msg, link: link)
        case .allocate, .refresh, .createPermission, .channelBind:
            guard let who = authenticate(msg, link: link) else { return }
            switch method {
            case .allocate: allocate(msg, key: key, link: link, auth: who)
            case .refresh: refresh(msg, key: key, link: link, auth: who)
            case .createPermission: createPermission(msg, key: key, link: link, auth: who)
            default: channelBind(msg, key: key, link: link, auth: who)
            }
        case .send, .data:
            error(msg, link: link, .badRequest, "Send and Data are indications, not requests", auth: nil)
        }
    }

    // MARK: Responses

    @discardableResult
    func respond(_ req: STUNMessage, link: ClientLink, cls: STUNClass, auth: AuthResult?,
                 body: (inout STUNMessageBuilder) -> Void) -> ByteBuffer {
        var b = STUNMessageBuilder(method: req.method, messageClass: cls, transactionID: req.transactionID,
                                   buffer: link.allocator.buffer(capacity: 256))
        body(&b)
        if let s = config.software { b.append(.software, string: s) }
        if let a = auth {
            if a.sha256 { b.appendMessageIntegritySHA256(key: a.key) } else { b.appendMessageIntegrity(key: a.key) }
        }
        if config.fingerprint || req.fingerprintIndex != nil { b.appendFingerprint() }
        let out = b.finish()
        link.writeAndFlush(out)
        return out
    }

    func error(_ req: STUNMessage, link: ClientLink, _ code: STUNErrorCode, _ reason: String? = nil, auth: AuthResult?) {
        respond(req, link: link, cls: .errorResponse, auth: auth) { b in b.appendErrorCode(code, reason: reason) }
    }

    /// 401 and 438 carry REALM and a fresh NONCE so the client can retry.
    func challenge(_ req: STUNMessage, link: ClientLink, _ code: STUNErrorCode, _ reason: String? = nil) {
        respond(req, link: link, cls: .errorResponse, auth: nil) { b in
            b.appendErrorCode(code, reason: reason)
            b.append(.realm, string: config.realm)
            b.append(.nonce, string: auth.makeNonce())
        }
    }

    // MARK: Authentication

    func authenticate(_ msg: STUNMessage, link: ClientLink) -> AuthResult? {
        guard msg.integrityIndex != nil || msg.integritySHA256Index != nil else {
            // The normal first step of every client: ask again with credentials.
            challenge(msg, link: link, .unauthorized)
            return nil
        }
        guard let username = msg.string(.username, maxBytes: 512), let _ = msg.string(.realm),
              let nonce = msg.string(.nonce) else {
            error(msg, link: link, .badRequest, "MESSAGE-INTEGRITY needs USERNAME, REALM and NONCE", auth: nil)
            return nil
        }
        if auth.checkNonce(nonce) == .stale {
            challenge(msg, link: link, .staleNonce)
            return nil
        }
        switch auth.keys(for: username) {
        case .expired:
            metrics.authFailures += 1
            logger.info("refused expired REST username", metadata: ["user": "\(username)"])
            challenge(msg, link: link, .unauthorized, "Unauthorized: credentials expired")
            return nil
        case .unknown:
            metrics.authFailures += 1
            challenge(msg, link: link, .unauthorized)
            return nil
        case .keys(let keys):
            for k in keys {
                if case .valid(let sha256) = STUNIntegrity.check(msg, key: k) {
                    return AuthResult(username: username, key: k, sha256: sha256)
                }
            }
            metrics.authFailures += 1
            challenge(msg, link: link, .unauthorized)
            return nil
        }
    }

    // MARK: Methods

    func binding(_ msg: STUNMessage, link: ClientLink) {
        metrics.bindingRequests += 1
        guard let remote = link.remote, let addr = STUNAddress(remote) else { return }
        respond(msg, link: link, cls: .successResponse, auth: nil) { b in
            b.append(.xorMappedAddress, address: addr, xor: true)
            b.append(.mappedAddress, address: addr, xor: false)
        }
    }

    /// RFC 8656 §7.2/§7.3: min(requested, max), but never below the default.
    func grantedLifetime(_ requested: UInt32?) -> Int {
        guard let r = requested else { return min(config.defaultAllocateLifetime, config.maxAllocateLifetime) }
        let asked = Int(min(r, UInt32(Int32.max)))
        return min(max(min(asked, config.maxAllocateLifetime), config.defaultAllocateLifetime), config.maxAllocateLifetime)
    }

    func refresh(_ msg: STUNMessage, key: ClientKey, link: ClientLink, auth who: AuthResult) {
        guard let a = allocations[key] else {
            error(msg, link: link, .allocationMismatch, auth: who)
            return
        }
        guard a.username == who.username else {
            error(msg, link: link, .wrongCredentials, auth: who)
            return
        }
        if msg.lifetime == 0 {
            remove(a, reason: "refresh with lifetime 0")
            respond(msg, link: link, cls: .successResponse, auth: who) { b in b.append(.lifetime, uint32: 0) }
            return
        }
        let lifetime = grantedLifetime(msg.lifetime)
        a.expiry = .now() + .seconds(Int64(lifetime))
        respond(msg, link: link, cls: .successResponse, auth: who) { b in b.append(.lifetime, uint32: UInt32(lifetime)) }
    }

    /// Checks a peer for CreatePermission/ChannelBind; answers the error itself.
    func admitPeer(_ peer: STUNAddress, for a: Allocation, _ msg: STUNMessage, link: ClientLink, auth who: AuthResult) -> Bool {
        if peer.unmappingIPv4.family != a.relayAddress.family {
            error(msg, link: link, .peerAddressFamilyMismatch, auth: who)
            return false
        }
        if !policy.permits(peer.ip) {
            metrics.forbiddenPeers += 1
            logger.info("refused peer", metadata: ["peer": "\(peer.ipString)", "user": "\(who.username)"])
            error(msg, link: link, .forbidden, "Forbidden IP", auth: who)
            return false
        }
        return true
    }

    func createPermission(_ msg: STUNMessage, key: ClientKey, link: ClientLink, auth who: AuthResult) {
        guard let a = allocations[key] else { error(msg, link: link, .allocationMismatch, auth: who); return }
        guard a.username == who.username else { error(msg, link: link, .wrongCredentials, auth: who); return }
        guard let peers = msg.xorAddresses(.xorPeerAddress), !peers.isEmpty else {
            error(msg, link: link, .badRequest, "XOR-PEER-ADDRESS missing or malformed", auth: who)
            return
        }
        // All or nothing (RFC 8656 §9.2): check every peer before installing any.
        for p in peers where !admitPeer(p, for: a, msg, link: link, auth: who) { return }
        let expiry = NIODeadline.now() + .seconds(Int64(config.permissionLifetime))
        for p in peers { a.permissions[p.unmappingIPv4.ip] = expiry }
        respond(msg, link: link, cls: .successResponse, auth: who) { _ in }
    }

    func channelBind(_ msg: STUNMessage, key: ClientKey, link: ClientLink, auth who: AuthResult) {
        guard let a = allocations[key] else { error(msg, link: link, .allocationMismatch, auth: who); return }
        guard a.username == who.username else { error(msg, link: link, .wrongCredentials, auth: who); return }
        guard let number = msg.channelNumber, ChannelData.validChannels.contains(number),
              let peer = msg.xorAddress(.xorPeerAddress) else {
            error(msg, link: link, .badRequest, "ChannelBind needs CHANNEL-NUMBER 0x4000-0x7FFF and XOR-PEER-ADDRESS", auth: who)
            return
        }
        guard admitPeer(peer, for: a, msg, link: link, auth: who) else { return }
        let peer4 = peer.unmappingIPv4
        if let existing = a.channels[number], existing.peer != peer4 {
            error(msg, link: link, .badRequest, "channel already bound to another peer", auth: who)
            return
        }
        if let other = a.channelByPeer[peer4], other != number {
            error(msg, link: link, .badRequest, "peer already bound to another channel", auth: who)
            return
        }
        guard let socket = PeerSocket(peer4) else {
            error(msg, link: link, .badRequest, "unusable peer address", auth: who)
            return
        }
        let now = NIODeadline.now()
        a.channels[number] = ChannelBinding(peer: peer4, peerSocket: socket, expiry: now + .seconds(Int64(config.channelLifetime)))
        a.channelByPeer[peer4] = number
        a.permissions[peer4.ip] = now + .seconds(Int64(config.permissionLifetime))
        respond(msg, link: link, cls: .successResponse, auth: who) { _ in }
    }

    func sendIndication(_ msg: STUNMessage, key: ClientKey) {
        guard let a = allocations[key], let peer = msg.xorAddress(.xorPeerAddress)?.unmappingIPv4,
              let data = msg.attribute(.data) else { return }
        guard a.permissions[peer.ip] != nil else { metrics.droppedNoPermission += 1; return }
        var socket: PeerSocket
        if let s = a.peerSockets[peer] {
            socket = s
        } else {
            guard let s = PeerSocket(peer) else { return }
            if a.peerSockets.count >= 1024 { a.peerSockets.removeAll() }
            a.peerSockets[peer] = s
            socket = s
        }
        sendToPeer(a, peer: &socket, payload: data.value)
    }
}
