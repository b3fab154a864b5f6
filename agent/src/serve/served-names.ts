/**
 * The names an anonymising agent serves its captures under. The live agent makes file names
 * unique (NAME#2, …), but anonymising the addresses in them can make two names one again: an
 * address has many spellings, and `2001:db8::10.pcap` and `2001:DB8:0:0:0:0:0:10.pcap` both
 * become the image of 2001:db8::10 followed by `.pcap`. Clients ask for captures by served name,
 * so a served name already taken gets the first free `#2`, `#3`, … as file names do.
 *
 * A capture keeps its served name while it is watched, whatever comes after it. The names of
 * captures no longer watched are let go when a new name is needed, so that a ring buffer's names
 * do not pile up; as with file names, a removed capture's name goes to the next that needs it.
 */
export class ServedNames {
  /** Served name by the capture's own name. */
  private readonly byName = new Map<string, string>();
  private readonly taken = new Set<string>();

  /**
   * `image`: a name with its addresses anonymised. `watched`: the names of the captures watched
   * now; without it no name is ever let go.
   */
  constructor(
    private readonly image: (name: string) => string,
    private readonly watched?: () => Iterable<string>,
  ) {}

  /** The served name of the capture named `name`, given it now if it has none. */
  of(name: string): string {
    const known = this.byName.get(name);
    if (known !== undefined) return known;
    this.letGoOfUnwatched();
    const base = this.image(name);
    let served = base;
    for (let n = 2; this.taken.has(served); n++) served = `${base}#${n}`;
    this.byName.set(name, served);
    this.taken.add(served);
    return served;
  }

  private letGoOfUnwatched(): void {
    if (this.watched === undefined) return;
    const watched = new Set(this.watched());
    for (const [name, served] of this.byName) {
      if (watched.has(name)) continue;
      this.byName.delete(name);
      this.taken.delete(served);
    }
  }
}
