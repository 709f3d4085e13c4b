import NIOCore
import NIOPosix

extension RelayEngine {
    func allocate(_ msg: STUNMessage, key: ClientKey, link: ClientLink, auth who: AuthResult) {
        if let a = allocations[key] {
            // A retransmission gets the original answer; anything else on this 5-tuple is a mismatch.
            if a.allocateTransaction == msg.transactionID {
                link.writeAndFlush(a.allocateResponse)
            } else {
                error(msg, link: link, .allocationMismatch, auth: who)
            }
            return
        }
        // Still binding the relay socket for this client: the retransmission is answered when it is done.
        if pending[key] != nil { return }
        guard let transport = msg.requestedTransport else {
            error(msg, link: link, .badRequest, "REQUESTED-TRANSPORT missing", auth: who)
            return
        }
        guard transport == 17 else {
            error(msg, link: link, .unsupportedTransport, auth: who)
            return
        }
        if msg.has(.requestedAddressFamily) {
            guard msg.requestedAddressFamily == 1 else {
                error(msg, link: link, .addressFamilyNotSupported, auth: who)
                return
            }
        }
        let evenPort = msg.evenPort
        let token = msg.reservationToken
        if evenPort == .malformed || (msg.has(.reservationToken) && token == nil) {
            error(msg, link: link, .badRequest, "malformed EVEN-PORT or RESERVATION-TOKEN", auth: who)
            return
        }
        if token != nil && evenPort != .absent {
            error(msg, link: link, .badRequest, "EVEN-PORT and RESERVATION-TOKEN cannot be combined", auth: who)
            return
        }
        guard let grant = grantQuota(msg, link: link, auth: who) else { return }
        let lifetime = grantedLifetime(msg.lifetime)

        if let token {
            guard let socket = reservations.take(token) else {
                releaseQuota(grant)
                error(msg, link: link, .insufficientCapacity, "Reservation token unknown or expired", auth: who)
                return
            }
            switch socket {
            case .channel:
                finishAllocate(msg, key: key, link: link, auth: who, relay: socket, lifetime: lifetime, reservedToken: nil, grant: grant)
            case .pump(let fd, _):
                #if os(Linux)
                guard let token = addToPump(fd) else {
                    close(fd)
                    releaseQuota(grant)
                    error(msg, link: link, .serverError, auth: who)
                    return
                }
                finishAllocate(msg, key: key, link: link, auth: who, relay: .pump(fd, token), lifetime: lifetime, reservedToken: nil, grant: grant)
                #endif
            }
            return
        }

        let reserve: Bool
        let even: Bool
        switch evenPort {
        case .even(let r): even = true; reserve = r
        default: even = false; reserve = false
        }

        // A UDP client on a pump listener, or a plain-TCP client with a
        // StreamWriter, gets relay sockets the pump reads, bound at once (no
        // future to wait for). A TLS client keeps a NIO relay channel on the
        // loop its connection is written on.
        #if os(Linux)
        if pump != nil, link.pumpCanRelay {
            let fd: CInt, next: CInt?
            do {
                (fd, next) = try bindPumpRelay(even: even, reserveNext: reserve, attemptsLeft: 32)
            } catch {
                releaseQuota(grant)
                logger.warning("no relay port available", metadata: ["error": "\(error)"])
                self.error(msg, link: link, .insufficientCapacity, auth: who)
                return
            }
            guard let token = addToPump(fd) else {
                close(fd)
                if let next { close(next) }
                releaseQuota(grant)
                error(msg, link: link, .serverError, auth: who)
                return
            }
            let reservedToken = next.map { reservations.hold(.pump($0, 0)) }
            finishAllocate(msg, key: key, link: link, auth: who, relay: .pump(fd, token), lifetime: lifetime,
                           reservedToken: reservedToken, grant: grant)
            return
        }
        #endif

        pending[key] = grant
        #if os(Linux)
        let bareReserve = pump != nil
        #else
        let bareReserve = false
        #endif
        bindRelay(even: even, reserveNext: reserve, bareReserve: bareReserve, attemptsLeft: 32).whenComplete { [self] result in
            self.lock.withLock { self.boundRelay(result, msg, key: key, link: link, auth: who, lifetime: lifetime) }
        }
    }

    private func boundRelay(_ result: Result<BoundRelay, Error>, _ msg: STUNMessage, key: ClientKey, link: ClientLink,
                            auth who: AuthResult, lifetime: Int) {
        guard let grant = self.pending.removeValue(forKey: key) else {
            // The client went away (TCP closed) while we were binding.
            if case .success(let bound) = result {
                bound.channel.close(promise: nil)
                if let r = bound.reserved { closeUnused(r) }
            }
            return
        }
        switch result {
        case .failure(let e):
            releaseQuota(grant)
            self.logger.warning("no relay port available", metadata: ["error": "\(e)"])
            self.error(msg, link: link, .insufficientCapacity, auth: who)
        case .success(let bound):
            let reservedToken = bound.reserved.map { reservations.hold($0) }
            self.finishAllocate(msg, key: key, link: link, auth: who, relay: .channel(bound.channel, bound.box),
                                lifetime: lifetime, reservedToken: reservedToken, grant: grant)
        }
    }

    private func finishAllocate(_ msg: STUNMessage, key: ClientKey, link: ClientLink, auth who: AuthResult,
                                relay: RelaySocket, lifetime: Int, reservedToken: UInt64?, grant: QuotaGrant) {
        let local: STUNAddress?
        switch relay {
        case .channel(let channel, _): local = channel.localAddress.flatMap { STUNAddress($0) }
        case .pump(let fd, _): local = RawDatagram.localAddress(fd)
        }
        guard var relayAddr = local, let remote = link.remote, let mapped = STUNAddress(remote) else {
            switch relay {
            case .channel(let channel, _): channel.close(promise: nil)
            case .pump(let fd, _):
                #if os(Linux)
                sendQueued(on: fd)
                pump?.remove(fd: fd)
                #endif
                close(fd)
            }
            releaseQuota(grant)
            error(msg, link: link, .serverError, auth: who)
            return
        }
        if let ext = externalIP { relayAddr.ip = ext }
        if msg.has(.dontFragment), case .pump(let fd, _) = relay {
            // DONT-FRAGMENT: send with DF set and never fragment (Linux IP_MTU_DISCOVER = IP_PMTUDISC_DO).
            var v: CInt = 2
            if setsockopt(fd, 0 /* IPPROTO_IP */, 10 /* IP_MTU_DISCOVER */, &v, socklen_t(MemoryLayout<CInt>.size)) != 0 {
                logger.debug("could not set DF on relay socket", metadata: ["errno": "\(errno)"])
            }
        } else if msg.has(.dontFragment), case .channel(let channel, _) = relay {
            // DONT-FRAGMENT: send with DF set and never fragment (Linux IP_PMTUDISC_DO).
            let df = ChannelOptions.Types.SocketOption(level: NIOBSDSocket.OptionLevel(rawValue: 0 /* IPPROTO_IP */),
                                                       name: NIOBSDSocket.Option(rawValue: 10 /* IP_MTU_DISCOVER */))
            channel.setOption(df, value: 2 /* IP_PMTUDISC_DO */).whenFailure { [logger] e in
                logger.debug("could not set DF on relay socket", metadata: ["error": "\(e)"])
            }
        }
        let a = Allocation(key: key, link: link, username: who.username, quotaUser: grant.user, userKey: who.key,
                           relay: relay, relayAddress: relayAddr, expiry: .now() + .seconds(Int64(lifetime)),
                           allocateTransaction: msg.transactionID, bps: grant.bps)
        switch relay {
        case .channel(_, let box):
            // Direct sends only on the channel's own loop: NIO closes the
            // descriptor there before channelInactive resets it, so another
            // thread (the pump, finishing an Allocate that took a reservation
            // a TCP client made) could write to a closed, reused number. That
            // allocation sends through NIO's thread-safe write instead.
            a.relayFD = loop.inEventLoop ? box.fd : -1
            box.allocation = a
        case .pump(_, let token):
            pumpRelays[token] = a
        }
        allocations[key] = a
        metrics.allocationsCreated += 1
        metrics.allocationsActive = allocations.count
        a.allocateResponse = respond(msg, link: link, cls: .successResponse, auth: who) { b in
            b.append(.xorRelayedAddress, address: relayAddr, xor: true)
            b.append(.xorMappedAddress, address: mapped, xor: true)
            b.append(.lifetime, uint32: UInt32(lifetime))
            if let t = reservedToken { b.append(.reservationToken, bytes: withUnsafeBytes(of: t.bigEndian) { Array($0) }) }
        }
        logger.debug("allocation created", metadata: ["relay": "\(relayAddr)", "client": "\(mapped)", "user": "\(who.username)"])
    }

    #if os(Linux)
    /// Puts a relay socket in the pump's set; nil if epoll refuses.
    private func addToPump(_ fd: CInt) -> UInt64? {
        guard let pump else { return nil }
        let token = nextPumpToken
        guard pump.add(fd: fd, token: token) else {
            logger.warning("cannot watch relay socket", metadata: ["errno": "\(errno)"])
            return nil
        }
        nextPumpToken += 1
        return token
    }

    /// Pump relay sockets, chosen like bindRelay's: a random port of
    /// min-port..max-port, retrying on ports in use; with EVEN-PORT R=1 also
    /// the next port, to reserve it.
    private func bindPumpRelay(even: Bool, reserveNext: Bool, attemptsLeft: Int) throws -> (CInt, CInt?) {
        var attempts = attemptsLeft
        func open(_ port: Int) throws -> CInt {
            try RawDatagram.bind(ip: relayBindIP, port: port, receiveBuffer: 1 << 18, sendBuffer: nil)
        }
        while true {
            let lo = config.minPort
            let hi = reserveNext ? config.maxPort - 1 : config.maxPort
            var port = lo <= hi ? Int.random(in: lo...hi) : lo
            if even, port % 2 == 1 { port = port + 1 <= hi ? port + 1 : port - 1 }
            guard lo <= hi, !(even && port % 2 == 1), port >= lo else {
                throw RelayError(.bindFailed, "port range \(config.minPort)-\(config.maxPort) cannot hold this allocation")
            }
            do {
                let fd = try open(port)
                guard reserveNext else { return (fd, nil) }
                do {
                    return (fd, try open(port + 1))
                } catch {
                    close(fd)
                    throw error
                }
            } catch {
                attempts -= 1
                if attempts <= 0 { throw error }
            }
        }
    }
    #endif

    struct BoundRelay: @unchecked Sendable {
        var channel: Channel
        var box: AllocationBox
        /// The next port, held for a RESERVATION-TOKEN: a bare descriptor
        /// when there is a pump (any shard may take it, ReservationStore),
        /// else a NIO channel.
        var reserved: RelaySocket?
    }

    /// Binds a relay socket on a random port of min-port..max-port, retrying
    /// on ports in use; with EVEN-PORT R=1 also binds the next port to
    /// reserve it (a bare descriptor if `bareReserve`, see BoundRelay).
    func bindRelay(even: Bool, reserveNext: Bool, bareReserve: Bool, attemptsLeft: Int) -> EventLoopFuture<BoundRelay> {
        var lo = config.minPort, hi = config.maxPort
        if reserveNext { hi -= 1 }
        var chosen = lo <= hi ? Int.random(in: lo...hi) : lo
        if even {
            if chosen % 2 == 1 { chosen = chosen + 1 <= hi ? chosen + 1 : chosen - 1 }
            lo = chosen
        }
        let port = chosen
        guard lo <= hi, !(even && port % 2 == 1), port >= config.minPort else {
            return loop.makeFailedFuture(RelayError(.bindFailed, "port range \(config.minPort)-\(config.maxPort) cannot hold this allocation"))
        }
        let first = bindRelaySocket(port: port)
        let both: EventLoopFuture<BoundRelay> = first.flatMap { [self] main in
            guard reserveNext else { return self.loop.makeSucceededFuture(BoundRelay(channel: main.0, box: main.1, reserved: nil)) }
            if bareReserve {
                do {
                    let fd = try RawDatagram.bind(ip: self.relayBindIP, port: port + 1, receiveBuffer: 1 << 18, sendBuffer: nil)
                    return self.loop.makeSucceededFuture(BoundRelay(channel: main.0, box: main.1, reserved: .pump(fd, 0)))
                } catch {
                    main.0.close(promise: nil)
                    return self.loop.makeFailedFuture(error)
                }
            }
            return self.bindRelaySocket(port: port + 1).map { next in
                BoundRelay(channel: main.0, box: main.1, reserved: .channel(next.0, next.1))
            }.flatMapErrorThrowing { e in
                main.0.close(promise: nil)
                throw e
            }
        }
        return both.flatMapError { [self] e in
            attemptsLeft > 1 ? self.bindRelay(even: even, reserveNext: reserveNext, bareReserve: bareReserve, attemptsLeft: attemptsLeft - 1)
                             : self.loop.makeFailedFuture(e)
        }
    }

    private func bindRelaySocket(port: Int) -> EventLoopFuture<(Channel, AllocationBox)> {
        let box = AllocationBox()
        return DatagramBootstrap(group: loop)
            .channelOption(.socketOption(.so_rcvbuf), value: 1 << 18)
            // One recvmsg per wakeup: a relay socket usually has one peer sending
            // paced media, and NIO's level-triggered epoll brings us back for more.
            // Vector reads would cost every allocation a buffer per slot.
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: RelayEngine.datagramBufferSize))
            .channelInitializer { [self] ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(RelayPeerHandler(engine: self, box: box))
                }
            }
            .bind(host: relayBindIP, port: port)
            .map { ch in
                // On the channel's loop, as NIO requires; an Allocate may finish on the UDP pump's thread.
                box.fd = RawDatagram.descriptor(of: ch)
                return (ch, box)
            }
    }
}
