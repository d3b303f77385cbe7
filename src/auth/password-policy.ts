// The password policy for new passwords, after NIST SP 800-63B: a minimum length, a generous maximum, no
// composition rules, and no password that is the account's own name. Each violation names the rule it breaks.

/** NIST SP 800-63B 5.1.1.2: "at least 8 characters"; verifiers "SHOULD permit … at least 64 characters". */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

export type PasswordRule = 'type' | 'minLength' | 'maxLength' | 'notUserPrincipalName' | 'notBlocklisted';

export type PasswordViolation = { readonly rule: PasswordRule; readonly message: string };

export type PasswordPolicyContext = {
  /** The account's user principal name; the password may be neither it nor its part before '@'. */
  readonly userPrincipalName?: string;
  /**
   * Passwords refused outright (breached or common passwords, the product's name, …), written in lower case: the
   * password is compared after NFKC normalisation, trimming and lower-casing. 800-63B asks verifiers to compare new
   * passwords against such a list; which list is the deployment's choice.
   */
  readonly blocklist?: ReadonlySet<string>;
};

/** Length in characters as a person counts them: Unicode code points after NFKC normalisation. */
export function passwordLength(password: string): number {
  return [...password.normalize('NFKC')].length;
}

/** Returns every rule the password breaks (empty when it is acceptable), each with a message naming the rule. */
export function checkPasswordPolicy(password: unknown, context: PasswordPolicyContext = {}): PasswordViolation[] {
  if (typeof password !== 'string') {
    return [
      {
        rule: 'type',
        message: `the password must be a string, but it is ${password === null ? 'null' : typeof password}`,
      },
    ];
  }
  const violations: PasswordViolation[] = [];
  const length = passwordLength(password);
  if (length < PASSWORD_MIN_LENGTH) {
    violations.push({
      rule: 'minLength',
      message: `the password must be at least ${PASSWORD_MIN_LENGTH} characters long, but it has ${length}`,
    });
  }
  if (length > PASSWORD_MAX_LENGTH) {
    violations.push({
      rule: 'maxLength',
      message: `the password must be at most ${PASSWORD_MAX_LENGTH} characters long, but it has ${length}`,
    });
  }
  const folded = password.normalize('NFKC').trim().toLowerCase();
  const upn = context.userPrincipalName?.normalize('NFKC').trim().toLowerCase();
  if (upn) {
    const local = upn.split('@')[0];
    if (folded === upn || (local.length > 0 && folded === local)) {
      violations.push({
        rule: 'notUserPrincipalName',
        message: 'the password must not be your user name (user principal name) or the part of it before the @',
      });
    }
  }
  if (context.blocklist?.has(folded)) {
    violations.push({ rule: 'notBlocklisted', message: 'the password is on the list of common or breached passwords' });
  }
  return violations;
}
