package main

import (
	"fmt"

	"granttrack/models"
)

// userSSO links a user to their account at the identity provider
// (GRANTTRACK_OIDC_ISSUER), by the subject the provider gives them, or
// unlinks them. Accounts are never linked on an email.
func (c *command) userSSO(args []string) error {
	fs := c.flags("user sso")
	email := fs.String("email", "", "the user to link")
	subject := fs.String("subject", "", "their subject at the identity provider (GRANTTRACK_OIDC_SUBJECT_CLAIM: sub, or Entra ID's object id)")
	unlink := fs.Bool("unlink", false, "remove the user's link instead")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *email == "":
		return usageError{"user sso needs --email"}
	case c.cfg.OIDC == nil:
		return usageError{"user sso needs single sign-on configured: GRANTTRACK_OIDC_ISSUER and the rest (README, Single sign-on)"}
	case *unlink == (*subject != ""):
		return usageError{"user sso needs --subject S or --unlink"}
	}
	if *subject != "" {
		if err := models.CheckText(*subject, false); err != nil {
			return usageError{"--subject: " + models.ErrorMessage(err)}
		}
	}
	a, err := c.open()
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Store.UserByEmail(c.ctx, *email)
	if err != nil {
		return err
	}
	issuer := c.cfg.OIDC.Issuer
	if *unlink {
		issuer = ""
	}
	if err := a.Store.LinkOIDC(c.ctx, models.SystemActor("user sso"), u.ID, issuer, *subject); err != nil {
		return err
	}
	if *unlink {
		fmt.Fprintf(c.stdout, "%s now signs in only with a password.\n", u.Email)
	} else {
		fmt.Fprintf(c.stdout, "%s now signs in through %s as %s.\n", u.Email, issuer, *subject)
	}
	return nil
}
