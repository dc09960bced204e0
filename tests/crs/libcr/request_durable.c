/* cr_request_file / cr_request_fd write durably: request_durable MODE PATH
 *   file       cr_request_file(PATH)
 *   fd         cr_request_fd on PATH opened O_WRONLY|O_CREAT without O_TRUNC
 *   fd-offset  the same after writing 100 bytes of its own: in place, at 100
 * then waits for the checkpoint (empty critical section) and prints
 * "continue" or, in the restarted process, "restarted"; exits 3. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libcr.h"

static int outcome = -2;

static int callback(void *arg)
{
    (void)arg;
    outcome = cr_checkpoint(0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    cr_client_id_t id = cr_init();
    if (id < 0 || cr_register_callback(callback, NULL, CR_THREAD_CONTEXT) < 0) {
        perror("cr_init");
        return 2;
    }
    int fd = -1;
    if (!strcmp(argv[1], "file")) {
        cr_request_file(argv[2]);
    } else {
        fd = open(argv[2], O_WRONLY | O_CREAT, 0600);
        if (fd < 0) {
            perror(argv[2]);
            return 2;
        }
        if (!strcmp(argv[1], "fd-offset")) {
            char head[100];
            memset(head, 'h', sizeof head);
            if (write(fd, head, sizeof head) != (ssize_t)sizeof head)
                return 2;
        }
        cr_request_fd(fd);
    }
    cr_enter_cs(id);
    cr_leave_cs(id);
    if (fd >= 0)
        close(fd);
    printf("%s\n", outcome > 0 ? "restarted" : outcome == 0 ? "continue" : "no checkpoint");
    return 3;
}
