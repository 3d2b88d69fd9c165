import { ConfigError } from "./config-error.ts";
import { readSecretFile, type SecretFiles } from "./secret-file.ts";

/** The four places one secret may come from; flags win over variables. */
export interface SecretSource {
  flag: string;
  fileFlag: string;
  variable: string;
  fileVariable: string;
}

export interface Secret {
  text: string;
  /** Where it came from, for messages: a flag, a variable, or a file and the flag naming it. */
  from: string;
}

type Env = Record<string, string | undefined>;

/**
 * A value that is empty or blank is a mistake, never "none": `--token "$TOKEN"` with TOKEN
 * unset must not start a server without auth.
 */
function nonBlank(text: string, name: string, variable: boolean): string {
  if (text.trim() !== "") return text;
  throw new ConfigError(
    variable
      ? `${name} is set but empty: give it a value, or unset it`
      : `${name} is empty (an unset shell variable?): give it a value, or leave it out`,
  );
}

function both(a: string, b: string): ConfigError {
  return new ConfigError(`${a} and ${b} are both given: give only one of them`);
}

/** One secret from `--x`, `--x-file`, `X` or `X_FILE`; undefined when none is set. */
export function singleSecret(
  source: SecretSource,
  given: { value: string | undefined; file: string | undefined },
  env: Env,
  files: SecretFiles,
): Secret | undefined {
  if (given.value !== undefined && given.file !== undefined) throw both(source.flag, source.fileFlag);
  if (given.value !== undefined)
    return { text: nonBlank(given.value, source.flag, false), from: source.flag };
  if (given.file !== undefined) {
    return { text: readSecretFile(given.file, source.fileFlag, files), from: source.fileFlag };
  }
  const value = env[source.variable];
  const file = env[source.fileVariable];
  if (value !== undefined && file !== undefined) throw both(source.variable, source.fileVariable);
  if (value !== undefined) return { text: nonBlank(value, source.variable, true), from: source.variable };
  if (file !== undefined)
    return { text: readSecretFile(file, source.fileVariable, files), from: source.fileVariable };
  return undefined;
}

/** Items of a comma-separated variable; blanks around commas dropped, but not an empty whole. */
function commaList(value: string, name: string): string[] {
  const items = value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (items.length === 0) nonBlank("", name, true);
  return items;
}

/**
 * Several secrets from repeatable `--x` or `--x-file`, or else from the comma-separated `XS`
 * or `X_FILES` (`source.variable`, `source.fileVariable`). `name(index, from)` names an item
 * in a message without showing it.
 */
export function secretList(
  source: SecretSource,
  given: { values: string[] | undefined; files: string[] | undefined },
  env: Env,
  files: SecretFiles,
  name: (index: number, from: string) => string = (_index, from) => from,
): Secret[] {
  const values = given.values ?? [];
  const paths = given.files ?? [];
  if (values.length > 0 && paths.length > 0) throw both(source.flag, source.fileFlag);
  if (values.length > 0) {
    return values.map((text, index) => ({
      text: nonBlank(text, name(index, source.flag), false),
      from: source.flag,
    }));
  }
  if (paths.length > 0) {
    return paths.map((path, index) => ({
      text: readSecretFile(path, name(index, source.fileFlag), files),
      from: source.fileFlag,
    }));
  }
  const value = env[source.variable];
  const fileList = env[source.fileVariable];
  if (value !== undefined && fileList !== undefined) throw both(source.variable, source.fileVariable);
  if (value !== undefined)
    return commaList(value, source.variable).map((text) => ({ text, from: source.variable }));
  if (fileList !== undefined) {
    return commaList(fileList, source.fileVariable).map((path, index) => ({
      text: readSecretFile(path, name(index, source.fileVariable), files),
      from: source.fileVariable,
    }));
  }
  return [];
}
