import { Command } from 'commander';
import { action, paint, withConnection } from './output.js';

export function runbooksCommand(): Command {
  const runbooks = new Command('runbooks').description('Reusable call plans (RUNBOOKS_DIR)');
  runbooks.addCommand(
    withConnection(new Command('list'))
      .description('Runbooks with their goal and variables, and the problems of those that cannot be used')
      .action(
        action(async (ctx) => {
          const r = await ctx.api.listRunbooks();
          ctx.print(r, () =>
            r.runbooks.length
              ? r.runbooks.flatMap((b) => [
                  paint(1, b.name) + (b.valid ? `  ${b.title ?? ''}` : paint(31, '  (cannot be used)')),
                  ...(b.goal ? [`  goal: ${b.goal}`] : []),
                  ...Object.entries(b.variables ?? {}).map(([k, v]) => `  --var ${k}=…  ${v.description}${v.required ? '' : ' (optional)'}${v.example ? `, e.g. ${v.example}` : ''}`),
                  ...b.problems.map((p) => paint(31, `  ${b.file}${p.line ? `:${p.line}` : ''}: ${p.field ? `${p.field}: ` : ''}${p.message}`)),
                ])
              : 'No runbooks.',
          );
        }),
      ),
  );
  return runbooks;
}
