/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The framing rules a request head must keep before anything else looks
 * at it (issue 14 item 1): one row each, the single source of the rule's
 * name, the answer (HTTP status, S3 error), whether the connection ends
 * with the answer, the rule's source and the message the client gets.
 *
 * Every row closes the connection: after a head we refused, nothing that
 * follows it on the connection can be trusted to start a request (a front
 * proxy may have framed it differently).
 *
 * HFR(enum suffix, HTTP status, s3_err suffix, close, source, message)
 */
HFR(LAYOUT,		400, INVALID_REQUEST,	1, "RFC 9112 §2.2",
    "The request head could not be read unambiguously.")
HFR(REQUEST_LINE,	400, INVALID_REQUEST,	1, "RFC 9112 §3",
    "The request line must be method SP request-target SP HTTP-version, "
    "with single spaces.")
HFR(METHOD,		400, INVALID_REQUEST,	1, "RFC 9112 §3.1",
    "The method is not a token.")
HFR(TARGET_FORM,	400, INVALID_URI,	1, "RFC 9112 §3.2.1",
    "Only an origin-form request target (/bucket/key?query) of visible "
    "ASCII is served.")
HFR(NUL,		400, INVALID_REQUEST,	1, "RFC 9110 §5.5",
    "A NUL byte in the request head.")
HFR(BARE_CR,		400, INVALID_REQUEST,	1, "RFC 9112 §2.2",
    "A CR not followed by LF in the request head.")
HFR(BARE_LF,		400, INVALID_REQUEST,	1, "RFC 9112 §2.2",
    "A line of the request head ends with LF alone; send CR LF.")
HFR(CONTROL,		400, INVALID_REQUEST,	1, "RFC 9110 §5.5",
    "A control character in a header field value.")
HFR(OBS_FOLD,		400, INVALID_REQUEST,	1, "RFC 9112 §5.2",
    "A header field line continued on the next line (obs-fold).")
HFR(SPACE_BEFORE_COLON,	400, INVALID_REQUEST,	1, "RFC 9112 §5.1",
    "Whitespace between a header field name and its colon.")
HFR(FIELD_NAME,		400, INVALID_ARGUMENT,	1, "RFC 9110 §5.1",
    "A header field name is not a token.")
HFR(FIELD_NAME_ALIAS,	400, INVALID_REQUEST,	1,
    "request smuggling research: '_' read as '-'",
    "A header field name reads as a framing or credential field with "
    "'_' for '-'.")
HFR(HOST_MISSING,	400, INVALID_REQUEST,	1, "RFC 9112 §3.2",
    "An HTTP/1.1 request needs a Host header field.")
HFR(HOST_INVALID,	400, INVALID_REQUEST,	1, "RFC 9112 §3.2",
    "The Host header field is not host[:port].")
HFR(DUPLICATE_FIELD,	400, INVALID_REQUEST,	1,
    "RFC 9110 §5.3; AWS SigV4: one value each",
    "A header field that must appear once appears more than once.")
HFR(CL_DUPLICATE,	400, INVALID_REQUEST,	1, "RFC 9110 §8.6",
    "More than one Content-Length.")
HFR(CL_INVALID,		400, INVALID_REQUEST,	1, "RFC 9112 §6.3",
    "Content-Length must be decimal digits only.")
HFR(CL_TOO_LARGE,	400, ENTITY_TOO_LARGE,	1, "RFC 9112 §6.3; S3 5 TiB",
    "Content-Length is larger than any S3 object (5 TiB).")
HFR(CL_WITH_TE,		400, INVALID_REQUEST,	1, "RFC 9112 §6.1",
    "Content-Length together with Transfer-Encoding.")
HFR(TE_DUPLICATE,	400, INVALID_REQUEST,	1, "RFC 9112 §6.1",
    "More than one Transfer-Encoding header field.")
HFR(TE_CODING,		400, INVALID_REQUEST,	1, "RFC 9112 §6.1, §7",
    "Transfer-Encoding must be exactly 'chunked'.")
HFR(TE_HTTP10,		400, INVALID_REQUEST,	1, "RFC 9112 §6.1",
    "Transfer-Encoding in an HTTP/1.0 request.")
HFR(CONNECTION_OPTION,	400, INVALID_REQUEST,	1, "RFC 9110 §7.6.1",
    "Connection names a header field the proxy must see end to end.")
HFR(PREFLIGHT_BODY,	400, INVALID_REQUEST,	1,
    "issue 14 item 2; Fetch: a CORS preflight has no body",
    "An unauthenticated CORS preflight carries no body.")
