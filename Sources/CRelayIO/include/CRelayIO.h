// The few Linux calls the relay's UDP pump needs that Swift's Glibc module
// does not expose (recvmmsg needs _GNU_SOURCE; epoll_event is a packed
// struct). Empty elsewhere: other systems keep the NIO UDP path.
#ifndef CRELAYIO_H
#define CRELAYIO_H

#include <stdint.h>
#include <sys/socket.h>

// The layout of struct mmsghdr, declared here because <sys/socket.h> only
// has it under _GNU_SOURCE.
struct crelay_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

#ifdef __linux__
// recvmmsg without a timeout.
int crelay_recvmmsg(int fd, struct crelay_mmsghdr *vec, unsigned int count, int flags);
// sendmmsg: returns how many were sent, or -1 with errno for the first
// datagram when none was.
int crelay_sendmmsg(int fd, struct crelay_mmsghdr *vec, unsigned int count, int flags);
// A close-on-exec epoll instance.
int crelay_epoll_create(void);
// Level-triggered EPOLLIN with a 64-bit token.
int crelay_epoll_add(int epfd, int fd, uint64_t token);
// Level-triggered EPOLLIN and/or EPOLLOUT (a TCP client the pump reads,
// or whose writer waits for room); add = 0 modifies a registered fd.
int crelay_epoll_set(int epfd, int add, int fd, uint64_t token, int in, int out);
int crelay_epoll_del(int epfd, int fd);
// Names the calling thread (at most 15 bytes are kept): pthread_setname_np is a GNU
// extension the Glibc module does not expose.
void crelay_name_this_thread(const char *name);
// Waits like epoll_wait and writes the ready tokens to `tokens` and, for
// each, to `ready`: bit 0 writable, bit 1 readable (or error / hang-up).
int crelay_epoll_wait(int epfd, uint64_t *tokens, uint32_t *ready, int max, int timeout_ms);
// UDP GSO (Linux 4.18+). The control-message space one UDP_SEGMENT needs.
size_t crelay_udp_segment_space(void);
// A UDP_SEGMENT control message for segments of `segment_size` bytes,
// written into `buffer` (crelay_udp_segment_space() bytes); returns its
// msg_controllen.
size_t crelay_udp_segment_control(void *buffer, uint16_t segment_size);
// Whether this kernel knows UDP_SEGMENT: an older one ignores the control
// message and would send a whole run as one datagram.
int crelay_udp_segment_supported(void);
#endif

#endif
