/* SPDX-License-Identifier: MIT */
/* Well-known host control sockets (docker, containerd, dbus, systemd) and
 * the runner's own pathname socket next to the workspace must not exist
 * in the sandbox. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "attack.h"

int main(void)
{
        const char *paths[] = {
                "/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
                "/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket", "/run/systemd/private",
                "/run/systemd/notify", "/run/systemd/journal/socket", "/dev/log", "/run/user/0/bus",
                "/var/run/nscd/socket", getenv("HOST_SOCKET_PATH"),
        };
        int found = 0;
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                if (!paths[i])
                        continue;
                struct stat st;
                if (stat(paths[i], &st) == 0 && S_ISSOCK(st.st_mode)) {
                        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                        struct sockaddr_un sa = { .sun_family = AF_UNIX };
                        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", paths[i]);
                        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
                                note_hole("connected to host socket %s", paths[i]);
                                found++;
                        } else {
                                note_weak("host socket %s visible (connect: %s)", paths[i], attack_errname(errno));
                        }
                        if (fd >= 0)
                                close(fd);
                }
        }
        if (!found)
                note_ok("no host control socket reachable (%zu paths)", sizeof(paths) / sizeof(paths[0]));
        attack_finish();
}
