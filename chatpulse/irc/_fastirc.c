/*
 * chatpulse.irc._fastirc: a native split_irc, the hot core of the IRC parser.
 *
 * Same contract as chatpulse.irc.parser.split_irc (the pure-Python reference, which stays the
 * specification and the fallback): split_irc(line, strict=False) returns the tuple
 * (tags: dict[str, str], prefix: str | None, command: str, params: list[str]) or raises
 * chatpulse.errors.IrcParseError with the very same message, for every str, lone surrogates,
 * NULs and huge lines included. tests/unit/test_irc_native.py checks this differentially.
 *
 * Why native: on the real capture, building the ~14-entry tag dict per line in Python was half of
 * parse_line's time (DESIGN.md section 8 asks for >= 200k lines/s on one core).
 *
 * Strings are read through the PEP 393 representation (1, 2 or 4 bytes per code point); every
 * result is made with PyUnicode_Substring / PyUnicode_FromKindAndData / PyUnicode_New(.., 127),
 * which produce the canonical (narrowest) representation, so results compare equal to the ones
 * Python slicing produces. The scanning core is one always-inlined function instantiated per
 * kind, so each instantiation reads its buffer with a constant width.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define FASTIRC_INLINE static inline __attribute__((always_inline))
#else
#define FASTIRC_INLINE static inline
#endif

/* chatpulse.errors.IrcParseError, looked up once at import. */
static PyObject *IrcParseError = NULL;

/* --- commands Twitch sends all day (mirrors parser._KNOWN_COMMANDS) -------------------------- */

static const char *const KNOWN_COMMAND_NAMES[] = {
    "PRIVMSG", "CLEARCHAT", "CLEARMSG",  "USERNOTICE", "ROOMSTATE", "USERSTATE",
    "GLOBALUSERSTATE", "NOTICE", "WHISPER", "JOIN", "PART", "HOSTTARGET", "RECONNECT",
    "PING", "PONG", "CAP",
};
#define N_KNOWN_COMMANDS (sizeof(KNOWN_COMMAND_NAMES) / sizeof(KNOWN_COMMAND_NAMES[0]))
static PyObject *known_commands[N_KNOWN_COMMANDS]; /* interned str, one per name */

/* --- tag-key cache ---------------------------------------------------------------------------
 * The same ~20 tag keys arrive on every line. Reusing one str object per key saves an allocation
 * and, because a str caches its hash, the hashing on every dict insert. A small direct-mapped
 * table: a slot holds the last short ASCII key whose hash landed there; a collision replaces it.
 * Safe without locks because the GIL is held whenever this module runs.
 */
#define KEY_CACHE_SLOTS 512
#define KEY_CACHE_MAX_LEN 40
static PyObject *key_cache[KEY_CACHE_SLOTS];

/* --- reading a PEP 393 buffer ----------------------------------------------------------------- */

FASTIRC_INLINE Py_ssize_t
find_char(int kind, const void *data, Py_ssize_t start, Py_ssize_t end, Py_UCS4 ch)
{
    if (start >= end) {
        return -1;
    }
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *base = (const Py_UCS1 *)data;
        const Py_UCS1 *hit = memchr(base + start, (int)ch, (size_t)(end - start));
        return hit == NULL ? -1 : (Py_ssize_t)(hit - base);
    }
    for (Py_ssize_t i = start; i < end; i++) {
        if (PyUnicode_READ(kind, data, i) == ch) {
            return i;
        }
    }
    return -1;
}

/* The first i >= start with line[i:i+2] == " :", or -1 (str.find(" :", start)). */
FASTIRC_INLINE Py_ssize_t
find_space_colon(int kind, const void *data, Py_ssize_t start, Py_ssize_t n)
{
    Py_ssize_t i = find_char(kind, data, start, n - 1, ' ');
    while (i >= 0) {
        if (PyUnicode_READ(kind, data, i + 1) == ':') {
            return i;
        }
        i = find_char(kind, data, i + 1, n - 1, ' ');
    }
    return -1;
}

/* Does line[start:start+len] equal the ASCII text `name` of length `len`? */
FASTIRC_INLINE int
equals_ascii(int kind, const void *data, Py_ssize_t start, Py_ssize_t len, const char *name)
{
    if (kind == PyUnicode_1BYTE_KIND) {
        return memcmp((const Py_UCS1 *)data + start, name, (size_t)len) == 0;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        if (PyUnicode_READ(kind, data, start + i) != (Py_UCS1)name[i]) {
            return 0;
        }
    }
    return 1;
}

/* --- errors ---------------------------------------------------------------------------------- */

static void
raise_parse_error(const char *message)
{
    PyErr_SetString(IrcParseError, message);
}

/* IrcParseError(f"malformed command {command[:20]!r}") for command = line[start:end]. */
static void
raise_malformed_command(PyObject *line, Py_ssize_t start, Py_ssize_t end)
{
    if (end - start > 20) {
        end = start + 20;
    }
    PyObject *shown = PyUnicode_Substring(line, start, end);
    if (shown == NULL) {
        return;
    }
    PyObject *message = PyUnicode_FromFormat("malformed command %R", shown);
    Py_DECREF(shown);
    if (message == NULL) {
        return;
    }
    PyErr_SetObject(IrcParseError, message);
    Py_DECREF(message);
}

/* --- pieces ---------------------------------------------------------------------------------- */

/* line[start:end] as a tag key, from the cache when it is a short ASCII key. New reference. */
FASTIRC_INLINE PyObject *
tag_key(PyObject *line, int kind, const void *data, Py_ssize_t start, Py_ssize_t end)
{
    Py_ssize_t len = end - start;
    if (len > KEY_CACHE_MAX_LEN) {
        return PyUnicode_Substring(line, start, end);
    }
    size_t hash = (size_t)len;
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (ch > 127) {
            return PyUnicode_Substring(line, start, end);
        }
        hash = hash * 31u + ch;
    }
    size_t slot = (hash ^ (hash >> 9)) & (KEY_CACHE_SLOTS - 1);
    PyObject *cached = key_cache[slot];
    if (cached != NULL && PyUnicode_GET_LENGTH(cached) == len &&
        equals_ascii(kind, data, start, len, (const char *)PyUnicode_1BYTE_DATA(cached))) {
        Py_INCREF(cached);
        return cached;
    }
    PyObject *key = PyUnicode_Substring(line, start, end);
    if (key == NULL) {
        return NULL;
    }
    /* An empty key never reaches here (dropped by the caller); a short ASCII key is a new,
     * compact 1-byte str, which is what the cache compares against. */
    Py_INCREF(key);
    Py_XSETREF(key_cache[slot], key);
    return key;
}

/* line[start:end] with IRCv3 tag-value escapes undone (parser.unescape_tag_value): \: -> ;
 * \s -> space, \\ -> \, \r -> CR, \n -> LF, any other escaped character stands for itself, and a
 * lone trailing backslash is dropped. New reference. */
FASTIRC_INLINE PyObject *
unescaped_value(int kind, const void *data, Py_ssize_t start, Py_ssize_t end)
{
    Py_ssize_t len = end - start;
    /* The result is never longer than the input, and every code point fits the input's kind. */
    Py_UCS4 stack_buffer[128]; /* Py_UCS4: aligned for every kind */
    void *buffer = stack_buffer;
    if ((size_t)len * (size_t)kind > sizeof(stack_buffer)) {
        buffer = PyMem_Malloc((size_t)len * (size_t)kind);
        if (buffer == NULL) {
            return PyErr_NoMemory();
        }
    }
    Py_ssize_t out = 0;
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (ch == '\\') {
            if (++i == end) {
                break;
            }
            ch = PyUnicode_READ(kind, data, i);
            switch (ch) {
            case ':': ch = ';'; break;
            case 's': ch = ' '; break;
            case 'r': ch = '\r'; break;
            case 'n': ch = '\n'; break;
            default: break; /* "\\" and any other character: itself */
            }
        }
        PyUnicode_WRITE(kind, buffer, out, ch);
        out++;
    }
    PyObject *value = PyUnicode_FromKindAndData(kind, buffer, out);
    if (buffer != stack_buffer) {
        PyMem_Free(buffer);
    }
    return value;
}

/* parser.parse_tags(line[start:end]) into `tags`. Returns 0, or -1 with an exception set. */
FASTIRC_INLINE int
parse_tags_into(PyObject *tags, PyObject *line, int kind, const void *data, Py_ssize_t start,
                Py_ssize_t end)
{
    int block_has_escape = find_char(kind, data, start, end, '\\') >= 0;
    Py_ssize_t item = start;
    for (;;) {
        Py_ssize_t item_end = find_char(kind, data, item, end, ';');
        if (item_end < 0) {
            item_end = end;
        }
        Py_ssize_t equals = find_char(kind, data, item, item_end, '=');
        Py_ssize_t key_end = equals < 0 ? item_end : equals;
        if (key_end > item) { /* items with an empty key are dropped */
            Py_ssize_t value_start = equals < 0 ? item_end : equals + 1;
            PyObject *key = tag_key(line, kind, data, item, key_end);
            if (key == NULL) {
                return -1;
            }
            PyObject *value;
            if (block_has_escape && find_char(kind, data, value_start, item_end, '\\') >= 0) {
                value = unescaped_value(kind, data, value_start, item_end);
            }
            else {
                value = PyUnicode_Substring(line, value_start, item_end);
            }
            if (value == NULL) {
                Py_DECREF(key);
                return -1;
            }
            int failed = PyDict_SetItem(tags, key, value);
            Py_DECREF(key);
            Py_DECREF(value);
            if (failed) {
                return -1;
            }
        }
        if (item_end == end) {
            return 0;
        }
        item = item_end + 1;
    }
}

FASTIRC_INLINE int
is_ascii_letter(Py_UCS4 ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* parser._check_command(line[start:end]): the command upper-cased (the interned known command
 * when it is one), or NULL with IrcParseError set. New reference. */
FASTIRC_INLINE PyObject *
command_from(PyObject *line, int kind, const void *data, Py_ssize_t start, Py_ssize_t end)
{
    Py_ssize_t len = end - start;
    int letters = len > 0;
    int digits = len == 3;
    for (Py_ssize_t i = start; i < end && (letters || digits); i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        letters = letters && is_ascii_letter(ch);
        digits = digits && ch >= '0' && ch <= '9';
    }
    if (!letters && !digits) {
        raise_malformed_command(line, start, end);
        return NULL;
    }
    PyObject *command = PyUnicode_New(len, 127);
    if (command == NULL) {
        return NULL;
    }
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(command);
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, start + i);
        out[i] = (Py_UCS1)(ch >= 'a' && ch <= 'z' ? ch - ('a' - 'A') : ch);
    }
    for (size_t k = 0; k < N_KNOWN_COMMANDS; k++) {
        if ((Py_ssize_t)strlen(KNOWN_COMMAND_NAMES[k]) == len &&
            memcmp(out, KNOWN_COMMAND_NAMES[k], (size_t)len) == 0) {
            Py_DECREF(command);
            Py_INCREF(known_commands[k]);
            return known_commands[k];
        }
    }
    return command;
}

/* The interned known command line[start:end] names exactly (case-sensitive), or NULL. Borrowed. */
FASTIRC_INLINE PyObject *
exact_known_command(int kind, const void *data, Py_ssize_t start, Py_ssize_t end)
{
    Py_ssize_t len = end - start;
    for (size_t k = 0; k < N_KNOWN_COMMANDS; k++) {
        if ((Py_ssize_t)strlen(KNOWN_COMMAND_NAMES[k]) == len &&
            equals_ascii(kind, data, start, len, KNOWN_COMMAND_NAMES[k])) {
            return known_commands[k];
        }
    }
    return NULL;
}

/* Appends line[start:end] to `list`. Returns 0, or -1 with an exception set. */
static int
append_slice(PyObject *list, PyObject *line, Py_ssize_t start, Py_ssize_t end)
{
    PyObject *item = PyUnicode_Substring(line, start, end);
    if (item == NULL) {
        return -1;
    }
    int failed = PyList_Append(list, item);
    Py_DECREF(item);
    return failed;
}

/* parser._check_prefix on line[start:end] (RFC 2812 2.3.1, nick [ [ "!" user ] "@" host ]):
 * returns 0, or -1 with IrcParseError set when a nick, user or host is present but empty. */
FASTIRC_INLINE int
check_prefix(int kind, const void *data, Py_ssize_t start, Py_ssize_t end)
{
    Py_ssize_t bang = find_char(kind, data, start, end, '!');
    Py_ssize_t at = find_char(kind, data, start, end, '@');
    if (bang < 0 && at < 0) {
        return 0; /* a server name or a bare nickname */
    }
    /* The nick ends at the first "!" or "@"; a "!" after the "@" belongs to the host. */
    int user_follows = bang >= 0 && (at < 0 || bang < at);
    if ((user_follows ? bang : at) == start) {
        raise_parse_error("empty nick in prefix");
        return -1;
    }
    if (user_follows && (at >= 0 ? at : end) == bang + 1) {
        raise_parse_error("empty user in prefix");
        return -1;
    }
    if (at == end - 1) {
        raise_parse_error("empty host in prefix");
        return -1;
    }
    return 0;
}

/* --- split_irc ------------------------------------------------------------------------------- */

/* The whole of parser.split_irc for one representation `kind`; see that function for the
 * grammar. Each step mirrors a statement there, in the same order, so errors come out in the
 * same order too. */
FASTIRC_INLINE PyObject *
split_kind(PyObject *line, int kind, const void *data, Py_ssize_t n, int strict)
{
    PyObject *tags = NULL, *prefix = NULL, *command = NULL, *params = NULL;

    if (find_char(kind, data, 0, n, '\n') >= 0 || find_char(kind, data, 0, n, '\r') >= 0) {
        raise_parse_error("line contains CR or LF");
        return NULL;
    }
    Py_ssize_t pos = 0;
    tags = PyDict_New();
    if (tags == NULL) {
        return NULL;
    }
    if (n > 0 && PyUnicode_READ(kind, data, 0) == '@') {
        Py_ssize_t end = find_char(kind, data, 1, n, ' ');
        if (end < 0) {
            raise_parse_error("no space after tags");
            goto fail;
        }
        if (end == 1) {
            raise_parse_error("empty tags declaration");
            goto fail;
        }
        if (parse_tags_into(tags, line, kind, data, 1, end) < 0) {
            goto fail;
        }
        pos = end + 1;
        if (!strict) {
            while (pos < n && PyUnicode_READ(kind, data, pos) == ' ') {
                pos++;
            }
        }
    }
    if (pos < n && PyUnicode_READ(kind, data, pos) == ':') {
        Py_ssize_t end = find_char(kind, data, pos, n, ' ');
        if (end < 0) {
            raise_parse_error("no space after prefix");
            goto fail;
        }
        if (end == pos + 1) {
            raise_parse_error("empty prefix");
            goto fail;
        }
        if (check_prefix(kind, data, pos + 1, end) < 0) {
            goto fail;
        }
        prefix = PyUnicode_Substring(line, pos + 1, end);
        if (prefix == NULL) {
            goto fail;
        }
        pos = end + 1;
    }
    /* No tag block or prefix holds a space, so the first " :" from here starts the trailing
     * parameter; everything before it is the command and the middle parameters. */
    Py_ssize_t colon = find_space_colon(kind, data, pos, n);
    Py_ssize_t head_end = colon < 0 ? n : colon;
    params = PyList_New(0);
    if (params == NULL) {
        goto fail;
    }
    if (strict) {
        /* head.split(" "): the first field is the command, even when empty. */
        Py_ssize_t field_end = find_char(kind, data, pos, head_end, ' ');
        if (field_end < 0) {
            field_end = head_end;
        }
        command = exact_known_command(kind, data, pos, field_end);
        if (command != NULL) {
            Py_INCREF(command);
        }
        else if ((command = command_from(line, kind, data, pos, field_end)) == NULL) {
            goto fail;
        }
        while (field_end < head_end) {
            Py_ssize_t field = field_end + 1;
            field_end = find_char(kind, data, field, head_end, ' ');
            if (field_end < 0) {
                field_end = head_end;
            }
            if (field_end == field) {
                raise_parse_error("too many spaces between parameters");
                goto fail;
            }
            if (append_slice(params, line, field, field_end) < 0) {
                goto fail;
            }
        }
    }
    else {
        /* [p for p in head.split(" ") if p]: the first non-empty field is the command. */
        Py_ssize_t field = pos;
        while (field < head_end) {
            Py_ssize_t field_end = find_char(kind, data, field, head_end, ' ');
            if (field_end < 0) {
                field_end = head_end;
            }
            if (field_end > field) {
                if (command == NULL) {
                    command = command_from(line, kind, data, field, field_end);
                    if (command == NULL) {
                        goto fail;
                    }
                }
                else if (append_slice(params, line, field, field_end) < 0) {
                    goto fail;
                }
            }
            field = field_end + 1;
        }
        if (command == NULL) {
            raise_parse_error("malformed command ''");
            goto fail;
        }
    }
    if (colon >= 0 && append_slice(params, line, colon + 2, n) < 0) {
        goto fail;
    }
    PyObject *result = PyTuple_New(4);
    if (result == NULL) {
        goto fail;
    }
    if (prefix == NULL) {
        prefix = Py_None;
        Py_INCREF(prefix);
    }
    PyTuple_SET_ITEM(result, 0, tags);
    PyTuple_SET_ITEM(result, 1, prefix);
    PyTuple_SET_ITEM(result, 2, command);
    PyTuple_SET_ITEM(result, 3, params);
    return result;

fail:
    Py_XDECREF(tags);
    Py_XDECREF(prefix);
    Py_XDECREF(command);
    Py_XDECREF(params);
    return NULL;
}

static PyObject *
split_line(PyObject *line, int strict)
{
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(line) < 0) { /* legacy (wstr) strings only exist before 3.12 */
        return NULL;
    }
#endif
    Py_ssize_t n = PyUnicode_GET_LENGTH(line);
    const void *data = PyUnicode_DATA(line);
    switch (PyUnicode_KIND(line)) {
    case PyUnicode_1BYTE_KIND:
        return split_kind(line, PyUnicode_1BYTE_KIND, data, n, strict);
    case PyUnicode_2BYTE_KIND:
        return split_kind(line, PyUnicode_2BYTE_KIND, data, n, strict);
    default:
        return split_kind(line, PyUnicode_4BYTE_KIND, data, n, strict);
    }
}

/* split_irc(line, strict=False): positional or keyword, like the Python function. */
static PyObject *
fastirc_split_irc(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs,
                  PyObject *kwnames)
{
    PyObject *line = nargs > 0 ? args[0] : NULL;
    PyObject *strict = nargs > 1 ? args[1] : NULL;
    if (nargs > 2) {
        PyErr_Format(PyExc_TypeError, "split_irc() takes from 1 to 2 positional arguments but %zd were given",
                     nargs);
        return NULL;
    }
    Py_ssize_t n_keywords = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t i = 0; i < n_keywords; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        PyObject **slot;
        if (PyUnicode_CompareWithASCIIString(name, "line") == 0) {
            slot = &line;
        }
        else if (PyUnicode_CompareWithASCIIString(name, "strict") == 0) {
            slot = &strict;
        }
        else {
            PyErr_Format(PyExc_TypeError, "split_irc() got an unexpected keyword argument %R", name);
            return NULL;
        }
        if (*slot != NULL) {
            PyErr_Format(PyExc_TypeError, "split_irc() got multiple values for argument %R", name);
            return NULL;
        }
        *slot = args[nargs + i];
    }
    if (line == NULL) {
        PyErr_SetString(PyExc_TypeError, "split_irc() missing required argument 'line'");
        return NULL;
    }
    if (!PyUnicode_Check(line)) {
        PyErr_Format(PyExc_TypeError, "split_irc() argument 'line' must be str, not %.200s",
                     Py_TYPE(line)->tp_name);
        return NULL;
    }
    int is_strict = 0;
    if (strict != NULL && (is_strict = PyObject_IsTrue(strict)) < 0) {
        return NULL;
    }
    return split_line(line, is_strict);
}

PyDoc_STRVAR(split_irc_doc,
"split_irc(line, strict=False)\n--\n\n"
"Parse one line (without its CRLF) into (tags, prefix, command, params).\n\n"
"The native twin of chatpulse.irc.parser.split_irc: same results, same IrcParseError\n"
"messages. strict selects the one-space dialect.");

static PyMethodDef fastirc_methods[] = {
    {"split_irc", (PyCFunction)(void (*)(void))fastirc_split_irc, METH_FASTCALL | METH_KEYWORDS,
     split_irc_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fastirc_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "chatpulse.irc._fastirc",
    .m_doc = "Native accelerator for chatpulse.irc.parser (optional; the Python code is the fallback).",
    .m_size = -1,
    .m_methods = fastirc_methods,
};

PyMODINIT_FUNC
PyInit__fastirc(void)
{
    if (IrcParseError == NULL) {
        PyObject *errors = PyImport_ImportModule("chatpulse.errors");
        if (errors == NULL) {
            return NULL;
        }
        IrcParseError = PyObject_GetAttrString(errors, "IrcParseError");
        Py_DECREF(errors);
        if (IrcParseError == NULL) {
            return NULL;
        }
    }
    for (size_t k = 0; k < N_KNOWN_COMMANDS; k++) {
        if (known_commands[k] == NULL &&
            (known_commands[k] = PyUnicode_InternFromString(KNOWN_COMMAND_NAMES[k])) == NULL) {
            return NULL;
        }
    }
    return PyModule_Create(&fastirc_module);
}
