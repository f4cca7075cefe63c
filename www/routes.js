// Views that own the whole page under their own link (`#class=warmup`, `#check`): each route is
// {name, matches(hash) -> bool, open(hash), close()}. While one is open, <body data-view=NAME>
// hides the lessons and the playground (styles.css) and the route's own section shows.

export class Routes {
  constructor() {
    this.list = [];
    this.current = null;
  }

  add(route) {
    this.list.push(route);
  }

  // Opens the route that claims `hash` (closing another); true when one did.
  open(hash) {
    const route = this.list.find((r) => r.matches(hash));
    if (this.current && this.current !== route) {
      this.current.close();
      this.current = null;
      delete document.body.dataset.view;
    }
    if (!route) return false;
    this.current = route;
    document.body.dataset.view = route.name;
    route.open(hash);
    return true;
  }
}
