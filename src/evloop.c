/* SPDX-License-Identifier: Apache-2.0 */
/* evloop: see evloop.h. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "evloop.h"

#define MAX_EVENTS	64

struct evloop {
	int		 epfd;
	struct evwatch	 wake;		/* the eventfd */
	atomic_int	 stop;

	/* Posted functions, any thread in, the loop out. */
	pthread_mutex_t	 mtx;
	struct evloop_job	*head;
	struct evloop_job	**tail;
	int		 signalled;	/* eventfd written since last drain */
};

static void
drain(struct evwatch *w, uint32_t events)
{
	struct evloop	*l = w->arg;
	struct evloop_job	*p, *next;
	uint64_t	 v;
	ssize_t		 n;

	(void)events;
	n = read(w->fd, &v, sizeof(v));
	(void)n;
	pthread_mutex_lock(&l->mtx);
	p = l->head;
	l->head = NULL;
	l->tail = &l->head;
	l->signalled = 0;
	pthread_mutex_unlock(&l->mtx);
	for (; p != NULL; p = next) {
		next = p->next;
		p->fn(p->arg);
		if (p->owned)
			free(p);
	}
}

struct evloop *
evloop_new(void)
{
	struct evloop	*l;

	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	l->wake.cb = drain;
	l->wake.arg = l;
	l->tail = &l->head;
	pthread_mutex_init(&l->mtx, NULL);
	if (l->epfd == -1 || l->wake.fd == -1 ||
	    evloop_watch(l, &l->wake, EPOLLIN) == -1) {
		evloop_free(l);
		return NULL;
	}
	return l;
}

void
evloop_free(struct evloop *l)
{
	struct evloop_job	*p;

	if (l == NULL)
		return;
	while ((p = l->head) != NULL) {
		l->head = p->next;
		if (p->owned)
			free(p);
	}
	if (l->wake.fd != -1)
		close(l->wake.fd);
	if (l->epfd != -1)
		close(l->epfd);
	pthread_mutex_destroy(&l->mtx);
	free(l);
}

int
evloop_watch(struct evloop *l, struct evwatch *w, uint32_t events)
{
	struct epoll_event	 ev;
	int			 op;

	if (events == 0) {
		if (w->active && epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd,
		    NULL) == -1 && errno != EBADF && errno != ENOENT)
			return -1;
		w->active = 0;
		w->events = 0;
		return 0;
	}
	if (w->active && w->events == events)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = w;
	op = w->active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(l->epfd, op, w->fd, &ev) == -1) {
		/* A descriptor closed and reused behind our back. */
		if (op == EPOLL_CTL_MOD && errno == ENOENT)
			op = EPOLL_CTL_ADD;
		else if (op == EPOLL_CTL_ADD && errno == EEXIST)
			op = EPOLL_CTL_MOD;
		else
			return -1;
		if (epoll_ctl(l->epfd, op, w->fd, &ev) == -1)
			return -1;
	}
	w->active = 1;
	w->events = events;
	return 0;
}

int
evloop_post(struct evloop *l, evloop_fn fn, void *arg)
{
	struct evloop_job	*p;

	p = malloc(sizeof(*p));
	if (p == NULL)
		return -1;
	p->fn = fn;
	p->arg = arg;
	p->owned = 1;
	evloop_post_job(l, p);
	return 0;
}

void
evloop_post_job(struct evloop *l, struct evloop_job *p)
{
	uint64_t	 one = 1;
	int		 kick;
	ssize_t		 n;

	p->next = NULL;
	pthread_mutex_lock(&l->mtx);
	*l->tail = p;
	l->tail = &p->next;
	kick = !l->signalled;
	l->signalled = 1;
	pthread_mutex_unlock(&l->mtx);
	if (kick) {
		n = write(l->wake.fd, &one, sizeof(one));
		(void)n;
	}
}

void
evloop_run(struct evloop *l, int64_t (*next)(void *), void (*tick)(void *),
    void *arg)
{
	struct epoll_event	 evs[MAX_EVENTS];
	struct evwatch		*w;
	int64_t			 ms;
	int			 i, n;

	while (!atomic_load(&l->stop)) {
		ms = next(arg);
		if (ms < 0 || ms > 1000)
			ms = 1000;
		n = epoll_wait(l->epfd, evs, MAX_EVENTS, (int)ms);
		for (i = 0; i < n; i++) {
			w = evs[i].data.ptr;
			/* Stopped by an earlier callback of this round: its
			 * owner frees watchers only between rounds. */
			if (w->active)
				w->cb(w, evs[i].events);
		}
		tick(arg);
	}
}

void
evloop_stop(struct evloop *l)
{
	uint64_t	 one = 1;
	ssize_t		 n;

	atomic_store(&l->stop, 1);
	n = write(l->wake.fd, &one, sizeof(one));
	(void)n;
}
