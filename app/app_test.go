package app

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := LoadConfig(env(nil))
	if err != nil || cfg.DataDir != "var" || cfg.Addr != "127.0.0.1:8080" || cfg.ApprovalLimit.StringFixed(2) != "100000.00" {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	cfg, err = LoadConfig(env(map[string]string{"GRANTTRACK_APPROVAL_LIMIT": "25000.00", "GRANTTRACK_SECURE_COOKIES": "true", "GRANTTRACK_LOG_LEVEL": "debug"}))
	if err != nil || cfg.ApprovalLimit.StringFixed(2) != "25000.00" || !cfg.SecureCookies {
		t.Fatalf("set: %+v %v", cfg, err)
	}
	for k, v := range map[string]string{"GRANTTRACK_APPROVAL_LIMIT": "25k", "GRANTTRACK_SECURE_COOKIES": "maybe", "GRANTTRACK_LOG_LEVEL": "loud", "GRANTTRACK_LOG_FORMAT": "xml"} {
		if _, err := LoadConfig(env(map[string]string{k: v})); err == nil {
			t.Errorf("%s=%s was accepted", k, v)
		}
	}
}

func TestLogFormatJSON(t *testing.T) {
	cfg, err := LoadConfig(func(k string) string { return map[string]string{"GRANTTRACK_LOG_FORMAT": "JSON"}[k] })
	if err != nil || !cfg.LogJSON {
		t.Fatalf("GRANTTRACK_LOG_FORMAT=JSON: %+v %v", cfg, err)
	}
	var b bytes.Buffer
	cfg.Logger(&b).Info("started", "addr", "127.0.0.1:8080")
	var line map[string]any
	if err := json.Unmarshal(b.Bytes(), &line); err != nil || line["msg"] != "started" || line["addr"] != "127.0.0.1:8080" {
		t.Fatalf("a JSON log line: %q, %v", b.String(), err)
	}
}
