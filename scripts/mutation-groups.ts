// Which files a StrykerJS group mutates, by the patterns of stryker.config.mjs.

/** Whether `file` is one of the files a group's patterns name. */
export function inGroup(file: string, patterns: readonly string[]): boolean {
  const matches = (pattern: string): boolean => {
    const brace = /^(.*)\{([^}]+)\}(\.ts)$/.exec(pattern);
    if (brace) return brace[2]!.split(',').some((name) => file === `${brace[1]}${name}${brace[3]}`);
    if (pattern.endsWith('/**/*.ts')) return file.startsWith(pattern.slice(0, -'**/*.ts'.length)) && file.endsWith('.ts');
    return file === pattern;
  };
  return patterns.some((pattern) => !pattern.startsWith('!') && matches(pattern)) && !patterns.some((pattern) => pattern.startsWith('!') && matches(pattern.slice(1)));
}
