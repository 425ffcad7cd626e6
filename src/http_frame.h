/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_frame: strict request framing (RFC 9112), checked before anything
 * else reads a request (issue 14 item 1).  The rules are the rows of
 * http_frame_table.h.
 *
 * The check reads the head as libmicrohttpd (0.9.75) leaves it, because
 * that is what the proxy acts on: MHD parses the head in place in its
 * read buffer, replacing each line end with NUL bytes (two for CR LF, one
 * for a bare LF), each field's colon and the request line's separators
 * with one NUL, and lists the fields with pointers into that buffer.  MHD
 * itself accepts a bare LF, merges an obs-fold line into the previous
 * field's *name* (moving it out of the buffer) and hides a NUL byte (C
 * strings end there), so the list alone cannot show them; walking the
 * buffer against the list can.  Whatever is not laid out exactly as
 * expected is refused (HTTP_FRAME_LAYOUT): fail closed.
 *
 * http_frame_check() is pure: no I/O, no globals, no allocation.
 * http_frame_check_mhd() only gathers its input from an MHD connection
 * (one allocation for the field list, freed before it returns).  The TLS
 * guard (below) is the one part that does I/O: it reads and writes the
 * socket for GnuTLS.  Thread-safe: nothing shared; a guard is used by its
 * connection's thread only.
 */
#ifndef S3I_HTTP_FRAME_H
#define S3I_HTTP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "s3_err.h"

enum http_frame_rule {
	HTTP_FRAME_OK = 0,
#define HFR(name, status, err, close, source, msg) HTTP_FRAME_##name,
#include "http_frame_table.h"
#undef HFR
	HTTP_FRAME__COUNT
};

/* The largest Content-Length taken: S3's largest object. */
#define HTTP_FRAME_MAX_LENGTH	((uint64_t)5 << 40)

/* One header field as MHD lists it: pointers into the head. */
struct http_frame_field {
	const char	*name;
	size_t		 name_len;
	const char	*value;
	size_t		 value_len;
};

struct http_frame_head {
	const char	*raw;		/* the head from the method on */
	size_t		 raw_len;	/* through the empty line */
	const char	*version;	/* "HTTP/1.x", inside raw */
	const char	*target;	/* the request target as received
					 * (before MHD decodes it in place) */
	const struct http_frame_field *fields;	/* in received order */
	size_t		 n_fields;
};

struct http_frame_verdict {
	enum http_frame_rule	 rule;
	const char		*field;	/* the field concerned (static), or
					 * NULL */
	int			 has_length;	/* a Content-Length */
	uint64_t		 length;
	int			 chunked;	/* Transfer-Encoding: chunked */
	/* The connection must end after this request even when it is
	 * served: a chunked body is framed by MHD's lenient chunk parser
	 * (bare LF, any chunk extension), so nothing after it on the
	 * connection is read as a request. */
	int			 close_after;
};

/* Check a head; fills *v (rule HTTP_FRAME_OK when every rule holds) and
 * returns v->rule. */
enum http_frame_rule http_frame_check(const struct http_frame_head *,
	    struct http_frame_verdict *v);

/* An unauthenticated CORS preflight (OPTIONS with Origin, no
 * credentials) is forwarded without a body: one that announces a body
 * (Content-Length > 0 or Transfer-Encoding) is refused, and its
 * connection closed, before a byte of the body is read (issue 14 item
 * 2).  v: the verdict http_frame_check() gave the head. */
enum http_frame_rule http_frame_preflight(const struct http_frame_verdict *v);

struct MHD_Connection;

/*
 * The check on an MHD connection, at the access handler's first call for
 * a request: method and version are the handler's arguments, target the
 * raw request target the URI log callback saw.  Any input MHD does not
 * give as expected is HTTP_FRAME_LAYOUT.  An MHD connection that already
 * has a response queued (MHD refused the head itself) is not checked:
 * *queued is set to 1 and HTTP_FRAME_OK returned; the caller must then
 * queue nothing more (one answer per request).
 */
enum http_frame_rule http_frame_check_mhd(struct MHD_Connection *,
	    const char *method, const char *version, const char *target,
	    struct http_frame_verdict *v, int *queued);

/*
 * TLS: what an unauthenticated handshake may make GnuTLS hold (issue 14
 * item 2).  GnuTLS's own limit (gnutls_handshake_set_max_packet_length,
 * 128 KiB by default) is checked only once a whole message is in: it
 * buffers a message's records as they come, so one ClientHello
 * announcing 16 MiB held 16 MiB per connection.  So the guard reads the
 * socket for GnuTLS: a ClientHello announcing more than
 * HTTP_FRAME_TLS_HANDSHAKE_MAX, or more than HTTP_FRAME_TLS_BUDGET bytes
 * read before the client's Finished, fails the read (ECONNRESET) and MHD
 * closes the connection.  A real ClientHello is a few KiB, post-quantum
 * key shares included, and we never ask for a client certificate.
 */
#define HTTP_FRAME_TLS_HANDSHAKE_MAX	(16 * 1024)
#define HTTP_FRAME_TLS_BUDGET		(64 * 1024)

/* One per TLS connection; it must live until MHD has released the
 * GnuTLS session (MHD's connection-closed notification is after that). */
struct http_frame_tls_guard {
	int		 fd;
	uint64_t	 pulled;	/* bytes read during the handshake */
	unsigned char	 head[9];	/* record header + handshake header */
	size_t		 head_n;
	int		 done;		/* the client's Finished is in */
};

/* Put the guard between an MHD TLS connection's GnuTLS session and its
 * socket, at MHD's connection-start notification (MHD creates the session
 * before it, and nothing has been read yet).  Returns 0, or -1 when the
 * connection has no TLS session (then the caller must close it). */
int	 http_frame_tls_guard(struct MHD_Connection *,
	    struct http_frame_tls_guard *);

const char	*http_frame_name(enum http_frame_rule);	/* "CL_DUPLICATE" */
unsigned	 http_frame_status(enum http_frame_rule);
enum s3_err	 http_frame_error(enum http_frame_rule);
int		 http_frame_closes(enum http_frame_rule);
const char	*http_frame_source(enum http_frame_rule);
const char	*http_frame_message(enum http_frame_rule);

#endif
