package store

import (
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Encodings a spend file may be in.
const (
	EncodingUTF8        = "UTF-8"
	EncodingWindows1252 = "Windows-1252"
)

// TextError is a spend file that is not text in an encoding the import
// reads, at the line and byte column where that shows.
type TextError struct {
	Line, Column int
	Message      string
}

func (e *TextError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
}

// importText reads a spend file as UTF-8 text for the CSV reader. A UTF-8
// byte order mark is dropped. The first non-ASCII character decides the
// encoding: valid UTF-8 makes the file UTF-8, anything else Windows-1252
// (what Excel in the UK saves as "CSV", where £ is the byte 0xA3), which is
// converted as it is read. Up to that character both encodings agree, so
// the file is read once, as a stream. A NUL byte (UTF-16, UTF-32 or a
// binary file), a UTF-16 byte order mark, invalid UTF-8 after UTF-8, or a
// byte Windows-1252 leaves undefined is a *TextError; nothing is guessed.
type importText struct {
	src       io.Reader
	encoding  string // "" until the first non-ASCII character
	started   bool
	raw       []byte // read but not yet converted: at most an incomplete UTF-8 sequence between reads
	out       []byte // converted, not yet returned
	err       error
	line, col int // where raw starts: lines before it, bytes since the last newline
}

func newImportText(r io.Reader) *importText { return &importText{src: r} }

// Encoding is the file's encoding as decided so far (UTF-8 while it is all ASCII).
func (t *importText) Encoding() string {
	if t.encoding == "" {
		return EncodingUTF8
	}
	return t.encoding
}

func (t *importText) Read(p []byte) (int, error) {
	for len(t.out) == 0 && t.err == nil {
		t.fill()
	}
	if len(t.out) > 0 {
		n := copy(p, t.out)
		t.out = t.out[n:]
		return n, nil
	}
	return 0, t.err
}

func (t *importText) fill() {
	chunk := make([]byte, 64<<10)
	n, err := io.ReadAtLeast(t.src, chunk, 4)
	t.raw = append(t.raw, chunk[:n]...)
	eof := err == io.EOF || err == io.ErrUnexpectedEOF
	if err != nil && !eof {
		t.err = err
		return
	}
	if !t.started {
		t.started = true
		switch {
		case len(t.raw) >= 3 && string(t.raw[:3]) == "\xef\xbb\xbf":
			t.raw, t.encoding = t.raw[3:], EncodingUTF8
		case len(t.raw) >= 2 && (string(t.raw[:2]) == "\xff\xfe" || string(t.raw[:2]) == "\xfe\xff"):
			t.fail("the file is UTF-16 (it starts with a UTF-16 byte order mark); save it as \"CSV UTF-8\" and import it again")
			return
		}
	}
	t.convert(eof)
	if eof && t.err == nil {
		t.err = io.EOF
	}
}

// convert moves what it can of raw to out, keeping an incomplete UTF-8
// sequence at the end of raw for the next read unless the file has ended.
func (t *importText) convert(eof bool) {
	b := t.raw
	run := 0 // start of the bytes copied through unchanged
	i := 0
	for i < len(b) {
		c := b[i]
		switch {
		case c == 0:
			t.out = append(t.out, b[run:i]...)
			t.fail("the file holds a NUL byte, so it is not a text CSV file (UTF-16 or binary?); save it as \"CSV UTF-8\" and import it again")
			return
		case c < utf8.RuneSelf:
			if c == '\n' {
				t.line++
				t.col = 0
			} else {
				t.col++
			}
			i++
			continue
		case t.encoding != EncodingWindows1252:
			if !utf8.FullRune(b[i:]) && !eof {
				t.out = append(t.out, b[run:i]...)
				t.raw = append(t.raw[:0], b[i:]...)
				return
			}
			if r, size := utf8.DecodeRune(b[i:]); r != utf8.RuneError || size > 1 {
				t.encoding = EncodingUTF8
				t.col += size
				i += size
				continue
			}
			if t.encoding == EncodingUTF8 {
				t.out = append(t.out, b[run:i]...)
				t.fail(fmt.Sprintf("the byte 0x%02X is not UTF-8, though the file is UTF-8 before it; save the whole file as \"CSV UTF-8\" and import it again", c))
				return
			}
			t.encoding = EncodingWindows1252
		}
		// Windows-1252: every byte is one character, except five it leaves
		// undefined, which no real text holds.
		if c == 0x81 || c == 0x8D || c == 0x8F || c == 0x90 || c == 0x9D {
			t.out = append(t.out, b[run:i]...)
			t.fail(fmt.Sprintf("the byte 0x%02X is neither UTF-8 nor Windows-1252; save the file as \"CSV UTF-8\" and import it again", c))
			return
		}
		t.out = append(t.out, b[run:i]...)
		t.out = utf8.AppendRune(t.out, charmap.Windows1252.DecodeByte(c))
		t.col++
		i++
		run = i
	}
	t.out = append(t.out, b[run:]...)
	t.raw = t.raw[:0]
}

func (t *importText) fail(msg string) {
	t.err = &TextError{Line: t.line + 1, Column: t.col + 1, Message: msg}
	t.raw = nil
}
