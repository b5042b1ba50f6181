/* SPDX-License-Identifier: MIT */
/* AF_VSOCK reaches the hypervisor and other VMs regardless of network
 * namespaces. socket() must fail; if it did not, connect to the host CID. */
#include <sys/socket.h>
#include <linux/vm_sockets.h>
#include "attack.h"

int main(void)
{
        int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
        for (size_t i = 0; i < 3; i++) {
                errno = 0;
                int fd = socket(AF_VSOCK, types[i] | SOCK_CLOEXEC, 0);
                if (fd < 0) {
                        if (errno == EPERM || errno == EAFNOSUPPORT || errno == EACCES)
                                note_ok("socket(AF_VSOCK,%d): %s", types[i], attack_errname(errno));
                        else
                                note_weak("socket(AF_VSOCK,%d): %s", types[i], attack_errname(errno));
                        continue;
                }
                struct sockaddr_vm vm = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = 22 };
                int r = connect(fd, (struct sockaddr *)&vm, sizeof(vm));
                note_hole("socket(AF_VSOCK,%d) created (connect host cid: %s)", types[i],
                          r == 0 ? "connected" : attack_errname(errno));
                close(fd);
        }
        attack_finish();
}
