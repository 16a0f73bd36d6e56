// spawn_tree: builds small process trees for the parent-process tests (pid reuse, renamed and
// exited parents), step by step, then execs a program.
//
//   spawn_tree [STEP...] [-- PROGRAM [ARGS...]]
//
// Steps run in order in the current process:
//   pid=N      go on in a new process created with pid N (clone3 with set_tid: root, pid free);
//              the current process waits for it and exits with its status
//   fork       go on in a new child (plain fork); the current process waits likewise
//   orphan     go on in a new child and exit at once; the child waits (up to 5 s) until it has
//              been reparented (to the launcher, a child subreaper) before it goes on
//   name=NAME  rename the current process (prctl PR_SET_NAME; no syscall an execve rule audits)
//   print      write "pid=P ppid=Q comm=C" and a newline to stdout
//   hold       read stdin until end of file (the caller decides when the process goes on)
// At the end: exec PROGRAM (looked up in PATH), or exit 0 when there is none. Its comm is then the
// base name of PROGRAM as given: run it through a symlink to choose the name an audited execve
// shows (e.g. ln -s /usr/bin/true /tmp/x/ssh).
//
// The launcher (the first process) is a child subreaper: orphans below it are reparented to it,
// and it reaps every descendant before it exits.
//
// Exit status: PROGRAM's (or 0; after `orphan`, the exited parent's 0); 2 bad usage; 3 pid=N taken
// (EEXIST); 4 pid=N refused by the kernel (no clone3 or set_tid, not privileged); 5 another failure
// (fork, exec, reparenting).
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// Waits for every child (and, in the launcher, every reparented orphan); returns `child`'s exit
// status (128 + signal when killed).
static int wait_for_all(pid_t child) {
  int child_status = 5;
  for (;;) {
    int status = 0;
    pid_t done = waitpid(-1, &status, 0);
    if (done < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing left
    }
    if (done == child)
      child_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return child_status;
}

static pid_t clone_at_pid(pid_t pid) {
  pid_t set_tid[1] = {pid};
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  args.set_tid = (uint64_t)(uintptr_t)set_tid;
  args.set_tid_size = 1;
  return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

static void print_self(void) {
  char comm[17] = {0};
  prctl(PR_GET_NAME, comm, 0, 0, 0);
  printf("pid=%d ppid=%d comm=%s\n", (int)getpid(), (int)getppid(), comm);
  fflush(stdout);
}

static void hold(void) {
  char buffer[256];
  for (;;) {
    ssize_t got = read(STDIN_FILENO, buffer, sizeof buffer);
    if (got == 0 || (got < 0 && errno != EINTR)) return;
  }
}

static void wait_until_reparented(pid_t old_parent) {
  struct timespec tick = {0, 1000000};  // 1 ms
  for (int i = 0; i < 5000; ++i) {
    if (getppid() != old_parent) return;
    nanosleep(&tick, NULL);
  }
  fprintf(stderr, "spawn_tree: not reparented within 5 s\n");
  _exit(5);
}

int main(int argc, char** argv) {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    perror("spawn_tree: PR_SET_CHILD_SUBREAPER");
    return 5;
  }
  int i = 1;
  for (; i < argc; ++i) {
    const char* step = argv[i];
    if (strcmp(step, "--") == 0) {
      ++i;
      break;
    }
    if (strncmp(step, "pid=", 4) == 0 || strcmp(step, "fork") == 0) {
      pid_t child;
      if (step[0] == 'p') {
        char* end = NULL;
        long wanted = strtol(step + 4, &end, 10);
        if (*end != '\0' || wanted <= 1 || wanted > INT32_MAX) {
          fprintf(stderr, "spawn_tree: bad step %s\n", step);
          return 2;
        }
        child = clone_at_pid((pid_t)wanted);
        if (child < 0) {
          int error = errno;
          fprintf(stderr, "spawn_tree: pid %ld: %s\n", wanted, strerror(error));
          return error == EEXIST                                          ? 3
                 : (error == EPERM || error == ENOSYS || error == EINVAL) ? 4
                                                                          : 5;
        }
      } else {
        child = fork();
        if (child < 0) {
          perror("spawn_tree: fork");
          return 5;
        }
      }
      if (child > 0) return wait_for_all(child);
    } else if (strcmp(step, "orphan") == 0) {
      pid_t parent = getpid();
      pid_t child = fork();
      if (child < 0) {
        perror("spawn_tree: fork");
        return 5;
      }
      if (child > 0) _exit(0);
      wait_until_reparented(parent);
    } else if (strncmp(step, "name=", 5) == 0) {
      prctl(PR_SET_NAME, step + 5, 0, 0, 0);
    } else if (strcmp(step, "print") == 0) {
      print_self();
    } else if (strcmp(step, "hold") == 0) {
      hold();
    } else {
      fprintf(stderr, "spawn_tree: unknown step %s\n", step);
      return 2;
    }
  }
  if (i >= argc) return 0;
  execvp(argv[i], argv + i);
  fprintf(stderr, "spawn_tree: exec %s: %s\n", argv[i], strerror(errno));
  return 5;
}
