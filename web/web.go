// Package web holds granttrack's templates and static assets, embedded into
// the binary so that nothing is loaded from elsewhere at run time.
package web

import (
	"embed"
	"io/fs"
)

//go:embed templates static
var files embed.FS

// Templates returns the HTML templates, named by their path without ".html".
func Templates() fs.FS { return sub("templates") }

// Static returns the CSS, scripts and images served under /static.
func Static() fs.FS { return sub("static") }

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return f
}
