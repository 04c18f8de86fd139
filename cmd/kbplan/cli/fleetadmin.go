package cli

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kbplan/kbplan/fleet"
	"github.com/kbplan/kbplan/store"
)

// adminCmd is one subcommand of fleet user, token or group: it opens the
// store, runs, and closes it.
func adminCmd(use, short, example string, args cobra.PositionalArgs, stderr io.Writer, run func(ctx context.Context, fl *fleet.Fleet, args []string) error) *cobra.Command {
	var sf storeFlags
	c := &cobra.Command{Use: use, Short: short, Example: example, Args: args,
		RunE: func(_ *cobra.Command, a []string) error {
			ctx := context.Background()
			fl, err := sf.open(ctx, slog.New(slog.NewTextHandler(stderr, nil)))
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitUsage}
			}
			defer fl.Store.Close()
			return run(ctx, fl, a)
		}}
	sf.add(c)
	return c
}

// listCmd is a "list [--json]" subcommand: the store's rows as JSON (the
// API's form, show) or one line each.
func listCmd[T, J any](short, example, jsonHelp string, stdout, stderr io.Writer, load func(*store.Store, context.Context) ([]T, error), show func([]T) []J, line func(T) string) *cobra.Command {
	var asJSON bool
	c := adminCmd("list [--json]", short, example, cobra.NoArgs, stderr, func(ctx context.Context, fl *fleet.Fleet, _ []string) error {
		rows, err := load(fl.Store, ctx)
		if err != nil {
			return failed(stderr, err)
		}
		if asJSON {
			return printJSON(stdout, show(rows))
		}
		for _, r := range rows {
			fmt.Fprintln(stdout, line(r))
		}
		return nil
	})
	c.Flags().BoolVar(&asJSON, "json", false, jsonHelp)
	return c
}

// usageErr prints err and returns the bad-usage exit.
func usageErr(stderr io.Writer, err error) error {
	fmt.Fprintln(stderr, "kbplan:", err)
	return &ExitError{Code: ExitUsage}
}

func failed(stderr io.Writer, err error) error {
	fmt.Fprintln(stderr, "kbplan:", err)
	return &ExitError{Code: ExitFailure}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// readPassword is the first line of stdin: never an argument, which the
// process list and the shell history would show.
func readPassword(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(stdin, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func userCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Web users: add, list, reset a password, remove (offboarding)",
		Long: `user works on the fleet database directly. Passwords (12 to 72 characters)
are read from the first line of stdin, never from the command line. A reset or
a removal ends the user's sessions at once. Each change is in the audit record.`,
		Example: `  kbplan fleet user add ann --role viewer < ann.pass
  kbplan fleet user list --json
  printf '%s\n' "$NEWPASS" | kbplan fleet user reset ann
  kbplan fleet user remove ann`,
		Args: cobra.NoArgs,
	}
	var role string
	add := adminCmd("add NAME [--role viewer|admin]", "Create a web user (password on stdin)", "  kbplan fleet user add ann --role viewer < ann.pass",
		cobra.ExactArgs(1), stderr, func(ctx context.Context, fl *fleet.Fleet, args []string) error {
			if _, err := fl.Store.User(ctx, args[0]); err == nil {
				return usageErr(stderr, fmt.Errorf("user %s exists: kbplan fleet user reset %s sets a new password", args[0], args[0]))
			}
			pw, err := readPassword(stdin)
			if err != nil {
				return usageErr(stderr, err)
			}
			if err := fleet.AddUser(ctx, fl.Store, args[0], role, pw); err != nil {
				return usageErr(stderr, err)
			}
			fleet.LocalAudit(ctx, fl.Store, "user-add", args[0], "role "+role)
			fmt.Fprintf(stdout, "user %s (%s) saved in %s\n", args[0], role, fl.Store.Where)
			return nil
		})
	add.Flags().StringVar(&role, "role", fleet.RoleViewer, "viewer (read only) or admin")
	list := listCmd("List the web users and their roles", "  kbplan fleet user list --json", "JSON: [{name, role, created}]", stdout, stderr,
		(*store.Store).Users, fleet.UsersJSON, func(u store.User) string {
			return fmt.Sprintf("%s\t%s\t%s", u.Name, u.Role, u.Created.Format(time.RFC3339))
		})
	var resetRole string
	reset := adminCmd("reset NAME [--role viewer|admin]", "Set a new password (stdin) and end the user's sessions", "  printf '%s\\n' \"$NEWPASS\" | kbplan fleet user reset ann",
		cobra.ExactArgs(1), stderr, func(ctx context.Context, fl *fleet.Fleet, args []string) error {
			u, err := fl.Store.User(ctx, args[0])
			if err != nil {
				return usageErr(stderr, fmt.Errorf("user %s: %v (kbplan fleet user add makes one)", args[0], err))
			}
			pw, err := readPassword(stdin)
			if err != nil {
				return usageErr(stderr, err)
			}
			r := cmp.Or(resetRole, u.Role)
			if err := fleet.AddUser(ctx, fl.Store, args[0], r, pw); err != nil {
				return usageErr(stderr, err)
			}
			fleet.LocalAudit(ctx, fl.Store, "user-reset", args[0], "role "+r+"; sessions ended")
			fmt.Fprintf(stdout, "user %s: new password; its sessions ended\n", args[0])
			return nil
		})
	reset.Flags().StringVar(&resetRole, "role", "", "a new role too (viewer or admin); default: keep it")
	remove := adminCmd("remove NAME", "Remove a user; its sessions end at once", "  kbplan fleet user remove ann", cobra.ExactArgs(1), stderr,
		func(ctx context.Context, fl *fleet.Fleet, args []string) error {
			if err := fl.Store.DeleteUser(ctx, args[0]); err != nil {
				return usageErr(stderr, fmt.Errorf("user %s: %v", args[0], err))
			}
			fleet.LocalAudit(ctx, fl.Store, "user-remove", args[0], "sessions ended")
			fmt.Fprintf(stdout, "user %s removed; its sessions ended\n", args[0])
			return nil
		})
	cmd.AddCommand(add, list, reset, remove)
	return cmd
}

func tokenCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Enrollment tokens: add, list, revoke",
		Long: `token works on the database directly, as POST/GET/DELETE /api/v1/tokens do
through the server: "add" prints a new enrollment token (role enroll: it may
upload inventories and kit results, nothing else) once; "list" shows every
token without it; "revoke" stops one (servers that looked it up in the last 5
seconds accept it until then).

--site binds the token to a site: hosts it creates join that site, and it may
not write a host of another site (or of none). --hosts binds it to host names
matching a pattern (*, ?, [a-z]; case-insensitive). An upload outside either
is refused with 403 and logged. A kit's report token (kbplan kit
--report-token) is best bound to its one host: --hosts HOSTNAME.`,
		Example: `  kbplan fleet token add "plant A"
  kbplan fleet token add "plant A collectors" --site plant-a --hosts 'PLA-*'
  kbplan fleet token list --json
  kbplan fleet token revoke 3f2a9c01b7de`,
		Args: cobra.NoArgs,
	}
	var scope fleet.Scope
	add := adminCmd("add NAME [--site SITE] [--hosts PATTERN]", "Make an enrollment token; it is printed once", `  kbplan fleet token add "plant A" --site plant-a --hosts 'PLA-*'`,
		cobra.ExactArgs(1), stderr, func(ctx context.Context, fl *fleet.Fleet, args []string) error {
			tj, tok, err := fleet.AddEnrollToken(ctx, fl.Store, args[0], scope)
			if err != nil {
				return usageErr(stderr, err)
			}
			fleet.LocalAudit(ctx, fl.Store, "token-add", tj.ID, fmt.Sprintf("name %q, site %q, hosts %q", tj.Name, tj.Site, tj.Hosts))
			fmt.Fprintf(stdout, "%s\n", tok)
			fmt.Fprintf(stderr, "kbplan: enrollment token %s (%s) saved; it is shown only now\n", tj.ID, tj.Name)
			return nil
		})
	add.Flags().StringVar(&scope.Site, "site", "", "bind the token to this site")
	add.Flags().StringVar(&scope.Hosts, "hosts", "", "bind the token to host names matching this `PATTERN`")
	list := listCmd("List the tokens (never the secret)", "  kbplan fleet token list --json", "JSON: [{id, name, role, created, revoked, site, hosts}]", stdout, stderr,
		(*store.Store).Tokens, fleet.TokensJSON, func(t store.Token) string {
			state := "valid"
			if t.Revoked != nil {
				state = "revoked " + t.Revoked.Format(time.RFC3339)
			}
			return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\tsite=%s\thosts=%s", t.ID, t.Role, t.Name, t.Created.Format(time.RFC3339), state, cmp.Or(t.Site, "*"), cmp.Or(t.Hosts, "*"))
		})
	revoke := adminCmd("revoke ID", "Revoke a token", "  kbplan fleet token revoke 3f2a9c01b7de", cobra.ExactArgs(1), stderr,
		func(ctx context.Context, fl *fleet.Fleet, args []string) error {
			if args[0] == fleet.AdminTokenID {
				return usageErr(stderr, errors.New("the admin token is replaced, not revoked: kbplan serve --reset-admin-token"))
			}
			if err := fl.Store.RevokeToken(ctx, args[0], time.Now()); err != nil {
				return usageErr(stderr, fmt.Errorf("token %s: %v", args[0], err))
			}
			fleet.LocalAudit(ctx, fl.Store, "token-revoke", args[0], "")
			fmt.Fprintf(stdout, "token %s revoked\n", args[0])
			return nil
		})
	cmd.AddCommand(add, list, revoke)
	return cmd
}

func groupCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Host groups (sites, plant floors, the DMZ): add hosts, set a rule, list, remove",
		Long: `A host belongs to groups: named by its upload (kbplan-collect.cmd --group NAME,
or ?group=NAME on POST /api/v1/inventories), by "group add", or by a group's
host-name rule ("group rule": every host matching it joins, now and at its
uploads). Every page, export and metric of the fleet can be filtered by group.`,
		Example: `  kbplan fleet group add plant-a PLA-SQL01 PLA-APP02
  kbplan fleet group rule dmz 'DMZ-*'
  kbplan fleet group list --json
  kbplan fleet group remove plant-a PLA-APP02
  kbplan fleet group delete plant-a`,
		Args: cobra.NoArgs,
	}
	add := adminCmd("add GROUP HOST...", "Put hosts in a group (made if new)", "  kbplan fleet group add plant-a PLA-SQL01 PLA-APP02", cobra.MinimumNArgs(2), stderr,
		func(ctx context.Context, fl *fleet.Fleet, args []string) error {
			n, err := fl.JoinGroup(ctx, args[0], args[1:]...)
			if err != nil {
				return usageErr(stderr, err)
			}
			fleet.LocalAudit(ctx, fl.Store, "group-add", args[0], strings.Join(args[1:], ", "))
			fmt.Fprintf(stdout, "group %s: %d hosts joined (%d named)\n", args[0], n, len(args)-1)
			return nil
		})
	rule := adminCmd("rule GROUP PATTERN", "Set a group's host-name rule ('' for none); matching hosts join", "  kbplan fleet group rule dmz 'DMZ-*'", cobra.ExactArgs(2), stderr,
		func(ctx context.Context, fl *fleet.Fleet, args []string) error {
			n, err := fl.SetGroup(ctx, args[0], args[1])
			if err != nil {
				return usageErr(stderr, err)
			}
			fleet.LocalAudit(ctx, fl.Store, "group-set", args[0], fmt.Sprintf("rule %q, %d hosts joined", args[1], n))
			fmt.Fprintf(stdout, "group %s: rule %q, %d hosts joined\n", args[0], args[1], n)
			return nil
		})
	list := listCmd("List the groups, their rules and sizes", "  kbplan fleet group list", "JSON: [{name, rule, hosts, created}]", stdout, stderr,
		(*store.Store).Groups, fleet.GroupsJSON, func(g store.Group) string {
			return fmt.Sprintf("%s\t%d hosts\trule=%s", g.Name, g.Hosts, cmp.Or(g.Rule, "-"))
		})
	remove := adminCmd("remove GROUP HOST...", "Take hosts out of a group", "  kbplan fleet group remove plant-a PLA-APP02", cobra.MinimumNArgs(2), stderr,
		func(ctx context.Context, fl *fleet.Fleet, args []string) error {
			keys := make([]string, len(args)-1)
			for i, h := range args[1:] {
				keys[i] = fleet.Key(h)
			}
			n, err := fl.Store.LeaveGroup(ctx, args[0], keys...)
			if err != nil {
				return failed(stderr, err)
			}
			fleet.LocalAudit(ctx, fl.Store, "group-remove", args[0], strings.Join(args[1:], ", "))
			fmt.Fprintf(stdout, "group %s: %d hosts left\n", args[0], n)
			return nil
		})
	del := adminCmd("delete GROUP", "Delete a group (its hosts stay)", "  kbplan fleet group delete plant-a", cobra.ExactArgs(1), stderr,
		func(ctx context.Context, fl *fleet.Fleet, args []string) error {
			if err := fl.Store.DeleteGroup(ctx, args[0]); err != nil {
				return usageErr(stderr, fmt.Errorf("group %s: %v", args[0], err))
			}
			fleet.LocalAudit(ctx, fl.Store, "group-delete", args[0], "")
			fmt.Fprintf(stdout, "group %s deleted\n", args[0])
			return nil
		})
	cmd.AddCommand(add, rule, list, remove, del)
	return cmd
}
