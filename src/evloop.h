/* SPDX-License-Identifier: Apache-2.0 */
/*
 * evloop: one event loop per thread, on epoll.  The front runs one loop
 * per core; each loop owns a libmicrohttpd daemon and a libcurl multi
 * handle, so a request and its upstream transfer live on one thread and
 * need no locks between them.
 *
 * What it offers: file descriptor watchers (a callback per descriptor),
 * one "next deadline" callback asked before every wait, and posting a
 * function to the loop from any thread (an MPSC queue and one eventfd;
 * the eventfd is written only when the queue was empty, so a burst of
 * posts wakes the loop once).
 *
 * Threads: evloop_post() may be called from any thread; everything else
 * only from the loop's own thread (evloop_new() and evloop_free() from
 * the thread that owns the loop before it runs and after it stopped).
 */
#ifndef S3I_EVLOOP_H
#define S3I_EVLOOP_H

#include <stdint.h>

struct evloop;

/* A watched descriptor.  The owner keeps the struct alive while it is
 * watched; cb runs on the loop's thread with the epoll events. */
struct evwatch {
	int		 fd;
	uint32_t	 events;	/* EPOLLIN | EPOLLOUT ... now watched */
	int		 active;
	void		(*cb)(struct evwatch *, uint32_t events);
	void		*arg;
};

typedef void (*evloop_fn)(void *arg);

/* A function to run on a loop, in storage the poster owns (no allocation,
 * so posting it cannot fail).  It must not be posted again before it ran. */
struct evloop_job {
	evloop_fn		 fn;
	void			*arg;
	int			 owned;		/* the loop frees it */
	struct evloop_job	*next;
};

struct evloop *evloop_new(void);
void	evloop_free(struct evloop *);

/* Watch w->fd for events (replacing what was watched); events 0 stops
 * watching.  Returns 0, or -1 (errno). */
int	evloop_watch(struct evloop *, struct evwatch *, uint32_t events);

/* Run fn(arg) on the loop's thread soon.  Any thread.  Returns 0, or -1
 * when out of memory (fn is then not run). */
int	evloop_post(struct evloop *, evloop_fn fn, void *arg);
/* Run job->fn(job->arg) on the loop's thread soon.  Any thread. */
void	evloop_post_job(struct evloop *, struct evloop_job *);

/*
 * Run until evloop_stop().  Before each wait, next(arg) gives the
 * milliseconds until the owner's next deadline (-1: none); after the
 * events of one wait were dispatched, tick(arg) runs (the owner's
 * timers and bookkeeping).
 */
void	evloop_run(struct evloop *, int64_t (*next)(void *),
	    void (*tick)(void *), void *arg);
/* Make evloop_run() return after the current round.  Any thread. */
void	evloop_stop(struct evloop *);

#endif
